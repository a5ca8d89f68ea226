"""The chat's own sentences in English and Japanese (the offline model's answers, confirmations, results).

Messages from the core (a refusal such as the kill switch's) are shown as they are, like the buttons show them.
"""

from __future__ import annotations

from datetime import datetime

from core.language import JAPANESE

EN: dict[str, str] = {
    'no_project': 'You have no project yet: start one with “New project”.',
    'which_project': 'Which project do you mean? Name it: {titles}.',
    'stage': '“{title}” is at the stage “{stage}”.',
    'parked': 'This project is parked: nothing moves until you unpark it.',
    'no_build': 'No build has started yet.',
    'build': 'The latest build is {state}{phase}.',
    'phase': ' (working on “{phase}”)',
    'queue': 'It is number {n} in the queue.',
    'error': 'What went wrong: {error}',
    'version': 'Your current version is {label}.',
    'pending': 'Waiting for your decision: {gates}.',
    'needs_you': 'The agent needs your decision: {problem}',
    'today': 'Spent today: {today} of {daily} tokens.',
    'sleeping': 'The build is resting because {reason} It wakes up on its own at {wake} ({until}) and carries on '
    'where it left off: you have nothing to do.',
    'sleep_reason': "today's budget is spent.",
    'not_sleeping': 'The build is not resting: it is {state}.',
    'minutes': 'in about {n} minutes',
    'hours': 'in about {n} hours',
    'soon': 'any moment now',
    'no_report': 'There is no deploy readiness report yet: I write one each time a build is ready.',
    'blockers': '{label} ({version}). What blocks your deploy:',
    'blocker': '• {title}: {detail} Fix: {fix}',
    'no_blockers': 'Nothing blocks your deploy ({label}, {version}).',
    'warnings': 'Also {n} warning(s): {titles}.',
    'paths': 'Ways to deploy it: {paths}.',
    'failing': 'Features that failed their check: {features}.',
    'no_versions': 'There is no version yet: the first is made when a build is ready.',
    'unknown_version': 'There is no {label}. Your versions: {labels}.',
    'first_version': '{label} was the first version: {summary}',
    'changes': 'What changed in {label} (compared with {previous}): {summary}',
    'files': 'Files added: {added}. Changed: {changed}. Removed: {removed}.',
    'none': 'none',
    'spend': 'In the last 7 days you spent {week} tokens ({week_cost}) across all your projects. Today: {today} of '
    "today's {daily} tokens ({today_cost}). This period: {period} of {allowance} tokens; it renews on {renews}.",
    'question': 'The agent is stuck and needs your decision. {problem} What it tried: {tried}. It recommends '
    '“{recommended}”. Options: {options}. Tell me which one, for example “option 1”.',
    'no_question': 'The agent is not waiting for a decision right now.',
    'which_option': 'Which option? {options}',
    'busy': 'A build of this project is already under way.',
    'nothing_to_cancel': 'There is no build under way to cancel.',
    'no_version_yet': 'There is no ready version yet.',
    'which_page': 'Which page? {pages}',
    'cannot': 'I cannot do that.',
    'help': 'I know your project as it is now. Ask me “what is the status?”, “what is blocking my deploy?”, “why is '
    'it sleeping?”, “what did you change in v0.2?” or “how much have I spent this week?”. I can also act for you, '
    'once you confirm: start or retry a build, cancel it, answer the agent’s question, ask for a change, open a '
    'page, download the docs or the code.',
    'unknown': 'Sorry, I did not understand that.',
    'confirm_lead': 'I can do that once you confirm:',
    'start_build': 'Start a build of “{title}”?',
    'retry_build': 'Retry the build of “{title}”?',
    'cancel_build': 'Cancel the build of “{title}”? The agent stops and your project stays as it is.',
    'answer_escalation': 'Answer the agent: “{text}”?',
    'change_request': 'Ask for this change to “{title}”: “{text}”? I will open the change request with it.',
    'open_page': 'Open the {page} page of “{title}”?',
    'download_docs': 'Download the documentation of “{title}” as Markdown?',
    'download_zip': 'Download the code of {text} as a zip?',
    'started': 'Build started.',
    'retried': 'Build started again.',
    'cancelled': 'Build cancelled.',
    'cancelling': 'Cancelling: the agent stops after its current step.',
    'answered': 'Thanks — back to work with your decision.',
    'change_opened': 'Your change request is open: check it and continue on the change page.',
    'opening': 'Opening the {page} page.',
    'docs': 'Downloading the documentation.',
    'zip': 'Downloading the code of {text}.',
    'declined': 'Fine, I did nothing.',
    'model_failed': 'I could not answer just now: {problem}',
}

JA: dict[str, str] = {
    'no_project': 'まだプロジェクトがありません。「New project」から始めましょう。',
    'which_project': 'どのプロジェクトのことですか？名前を教えてください: {titles}。',
    'stage': '「{title}」は現在「{stage}」の段階です。',
    'parked': 'このプロジェクトは保留中です。再開するまで何も進みません。',
    'no_build': 'まだビルドは始まっていません。',
    'build': '最新のビルドは{state}です{phase}。',
    'phase': '（「{phase}」に取り組み中）',
    'queue': 'キューの{n}番目です。',
    'error': '問題: {error}',
    'version': '現在のバージョンは{label}です。',
    'pending': 'あなたの判断待ち: {gates}。',
    'needs_you': 'エージェントがあなたの判断を待っています: {problem}',
    'today': '本日の使用量: {daily}トークン中{today}トークン。',
    'sleeping': 'ビルドは休止中です。理由: {reason} {wake}（{until}）に自動で再開し、続きから作業します。'
    'あなたが何かをする必要はありません。',
    'sleep_reason': '本日の予算を使い切りました。',
    'not_sleeping': 'ビルドは休止していません。現在の状態: {state}。',
    'minutes': '約{n}分後',
    'hours': '約{n}時間後',
    'soon': 'まもなく',
    'no_report': 'デプロイ準備レポートはまだありません。ビルドが完成するたびに作成します。',
    'blockers': '{label}（{version}）。デプロイを妨げているもの:',
    'blocker': '• {title}: {detail} 対処: {fix}',
    'no_blockers': 'デプロイを妨げるものはありません（{label}、{version}）。',
    'warnings': '警告も{n}件あります: {titles}。',
    'paths': 'デプロイ方法: {paths}。',
    'failing': '確認に失敗した機能: {features}。',
    'no_versions': 'まだバージョンはありません。ビルドが完成すると最初のバージョンができます。',
    'unknown_version': '{label}はありません。バージョン: {labels}。',
    'first_version': '{label}は最初のバージョンです: {summary}',
    'changes': '{label}の変更点（{previous}との比較）: {summary}',
    'files': '追加されたファイル: {added}。変更: {changed}。削除: {removed}。',
    'none': 'なし',
    'spend': '過去7日間の使用量は全プロジェクトで{week}トークン（{week_cost}）です。本日: {daily}トークン中'
    '{today}トークン（{today_cost}）。今期: {allowance}トークン中{period}トークン。{renews}に更新されます。',
    'question': 'エージェントが行き詰まり、あなたの判断を待っています。{problem} 試したこと: {tried}。'
    'おすすめは「{recommended}」です。選択肢: {options}。「オプション1」のように教えてください。',
    'no_question': 'エージェントは今、判断を待っていません。',
    'which_option': 'どの選択肢にしますか？ {options}',
    'busy': 'このプロジェクトのビルドはすでに進行中です。',
    'nothing_to_cancel': 'キャンセルできる進行中のビルドはありません。',
    'no_version_yet': 'まだ完成したバージョンはありません。',
    'which_page': 'どのページですか？ {pages}',
    'cannot': 'それはできません。',
    'help': 'プロジェクトの現在の状態を把握しています。「状況は？」「デプロイを妨げているものは？」'
    '「なぜ休止しているの？」「v0.2で何を変えたの？」「今週いくら使った？」のように聞いてください。確認をいただければ、ビルドの開始・再試行・'
    'キャンセル、エージェントの質問への回答、変更の依頼、ページを開く、ドキュメントやコードのダウンロードもできます。',
    'unknown': 'すみません、よく分かりませんでした。',
    'confirm_lead': '確認していただければ実行します:',
    'start_build': '「{title}」のビルドを開始しますか？',
    'retry_build': '「{title}」のビルドを再試行しますか？',
    'cancel_build': '「{title}」のビルドをキャンセルしますか？エージェントは停止し、プロジェクトはそのまま残ります。',
    'answer_escalation': 'エージェントに「{text}」と回答しますか？',
    'change_request': '「{title}」にこの変更を依頼しますか: 「{text}」？変更リクエストを入力済みで開きます。',
    'open_page': '「{title}」の{page}ページを開きますか？',
    'download_docs': '「{title}」のドキュメントをMarkdownでダウンロードしますか？',
    'download_zip': '{text}のコードをzipでダウンロードしますか？',
    'started': 'ビルドを開始しました。',
    'retried': 'ビルドを再開始しました。',
    'cancelled': 'ビルドをキャンセルしました。',
    'cancelling': 'キャンセル中です。エージェントは現在のステップの後に停止します。',
    'answered': 'ありがとうございます。あなたの判断で作業を再開します。',
    'change_opened': '変更リクエストを開きました。変更ページで確認して続けてください。',
    'opening': '{page}ページを開きます。',
    'docs': 'ドキュメントをダウンロードします。',
    'zip': '{text}のコードをダウンロードします。',
    'declined': '了解です。何もしていません。',
    'model_failed': '今はお答えできませんでした: {problem}',
}

STATES_JA = {
    'QUEUED': '開始待ち', 'STARTING': '起動中', 'SCAFFOLD': '準備中', 'CODE': 'コードを書いている最中',
    'DEPS': 'インストール中', 'CHECKS': 'アプリを確認中', 'READY': '完成', 'FAILED': '失敗',
    'CANCELLED': 'キャンセル済み', 'SLEEPING': '休止中', 'NEEDS_INPUT': 'あなたの判断待ち',
    'BUDGET_EXCEEDED': '予算超過で停止',
}  # fmt: skip
PAGES_JA = {
    'project': 'プロジェクト', 'brief': 'ブリーフ', 'plan': 'プラン', 'interview': 'インタビュー', 'build': 'ビルド',
    'change': '変更リクエスト', 'files': 'ファイル', 'changelog': '変更履歴', 'dashboard': 'ダッシュボード',
}  # fmt: skip


def say(lang: str, key: str, **values: object) -> str:
    """A sentence in the founder's language (English unless Japanese)."""
    table = JA if lang == JAPANESE else EN
    return table[key].format(**values)


def joined(lang: str, items: list[str]) -> str:
    return ('、' if lang == JAPANESE else ', ').join(items) if items else say(lang, 'none')


def state_name(lang: str, state: str, english: str) -> str:
    return STATES_JA.get(state, english) if lang == JAPANESE else english


def page_name(lang: str, page: str) -> str:
    return PAGES_JA.get(page, page) if lang == JAPANESE else page


def when(at: datetime) -> str:
    """An exact moment, unambiguous for every founder: UTC."""
    return at.strftime('%Y-%m-%d %H:%M:%S UTC')


def day(at: datetime) -> str:
    return at.strftime('%Y-%m-%d')


def until(lang: str, at: datetime, now: datetime) -> str:
    seconds = (at - now).total_seconds()
    if seconds < 60:
        return say(lang, 'soon')
    if seconds < 2 * 3600:
        return say(lang, 'minutes', n=round(seconds / 60))
    return say(lang, 'hours', n=round(seconds / 3600))
