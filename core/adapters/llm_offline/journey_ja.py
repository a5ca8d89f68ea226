"""The offline journey model's Japanese sentences (questions and brief), beside the English and French ones in
journey.py: a Japanese idea gets a Japanese brief, never English frames around Japanese words."""

from __future__ import annotations

from typing import Any

QUESTIONS: dict[str, tuple[str, str]] = {
    'who': ('「{title}」を最初に使うのは誰ですか?できるだけ具体的に。', '例:車で出張するトリマー'),
    'why': ('その人たちは今どんなことに困っていますか?', '例:電話のやりとりに毎週何時間も取られる'),
    'what': ('最初の版に必ず必要な機能は?「、」で区切って書いてください。', '例:予約カレンダー、デポジットの支払い'),
    'pay': ('お金の流れはどうしますか?デポジット、月額、都度払いなど。', '例:1 日ごとの料金とデポジット'),
    'device': ('どの端末で使われますか?', '例:ほとんどスマホ'),
    'time': ('どれくらい前から予定を立てますか?変更やキャンセルはできますか?', '例:1 週間前'),
    'people': ('他に関わる人は誰で、それぞれ何が見えるべきですか?', '例:同居人は全員の残高が見える'),
    'msg': ('お知らせはどう届けますか?メール、SMS、アプリ内?', '例:前日に SMS'),
}

BRIEF: dict[str, Any] = {
    'desc': '{feature}({target}向け)。',
    'value': '{target}向け:{idea}。「{problem}」という困りごとを、{features}で解決します。',
    'focus': '今の重点:{guidance}。',
    'pivot': '新しい方向:{guidance}。{target}向けに、まず{features}から。',
    'ng': ['iPhone・Android のネイティブアプリ(まずはスマホで使えるウェブアプリ)',
           '{first}に必要な範囲を超える、他のツールとの連携',
           '高度な分析や管理画面'],
    'dropped': 'この版には入れない:{feature}',
    'r_pay': 'お金を扱うには、信頼できる決済サービス、返金の方法、わかりやすい規約が必要です',
    'r_sms': 'SMS は 1 通ごとに費用がかかり、受け取る人の同意が必要です',
    'r_mobile': '小さな画面でも使いやすくする必要があります',
    'r_data': '個人情報は守り、必要最小限にとどめる必要があります',
    'r_adopt': '最初の{target}に試してもらい、使い続けてもらうこと',
    'r_scope': 'スコープ:最初の版に {n} 個の機能は多めです',
    'accept': '{feature}が最初の利用者にとって最初から最後まで動く',
    'success': '成功の目安を追っている:{success}',
    'topics': {'pay': 'お金', 'device': '端末', 'time': 'タイミング', 'people': '関わる人', 'msg': 'お知らせ'},
}  # fmt: skip

# Keyword stems of the question rules, matched as substrings (Japanese has no spaces between words).
STEMS: dict[str, tuple[str, ...]] = {
    'pay': ('払', '料金', 'デポジット', '決済', '月額', '課金', '会費', '保証金'),
    'device': ('スマホ', 'タブレット', '携帯', 'モバイル'),
    'time': ('予約', '日程', 'カレンダー', 'シフト', 'スケジュール'),
    'people': ('チーム', '共有', 'メンバー', 'グループ', '家族', '近所'),
    'msg': ('通知', 'リマインド', 'メール', 'お知らせ', '連絡'),
}
