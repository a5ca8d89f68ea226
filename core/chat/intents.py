"""What the founder asks for, told from their words (English and Japanese): a question about the state, an
action, or neither. Only the founder's own message is read here, never project data: text in a brief, an
answer or a generated file cannot turn into an action (it would still need the founder's confirmation)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

# Questions
STATUS, BLOCKERS, SLEEPING, CHANGES, SPEND, QUESTION, HELP = (
    'status', 'blockers', 'sleeping', 'changes', 'spend', 'question', 'help')  # fmt: skip
# Actions (their names are also the tools a real model may call)
START, RETRY, CANCEL, ANSWER, CHANGE, OPEN, DOCS, ZIP = (
    'start_build', 'retry_build', 'cancel_build', 'answer_escalation', 'change_request', 'open_page',
    'download_docs', 'download_zip')  # fmt: skip
ACTIONS = (START, RETRY, CANCEL, ANSWER, CHANGE, OPEN, DOCS, ZIP)
UNKNOWN = 'unknown'

PAGES = ('project', 'brief', 'plan', 'interview', 'build', 'change', 'files', 'changelog', 'dashboard')

_VERSION = re.compile(r'(?<![a-z0-9])v\s?(\d+)\.(\d+)(?![0-9])', re.I)  # Japanese runs on without a space
_UUID = re.compile(r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', re.I)
_OPTION_NUMBER = re.compile(r'(?:option|choice|number|#)\s*(\d)|(\d)\s*(?:番|つ目)|(?:オプション|選択肢)\s*(\d)', re.I)


@dataclass(frozen=True)
class Intent:
    kind: str
    text: str = ''  # an action's argument: the change asked for, a page, an option; a version for CHANGES
    project_ref: uuid.UUID | None = None  # a project id named in the message


def _any(text: str, *words: str) -> bool:
    return any(word in text for word in words)


def _words(text: str, *stems: str) -> bool:
    return any(re.search(rf'\b{stem}', text) for stem in stems)


def version_named(text: str) -> str | None:
    found = _VERSION.search(text)
    return f'v{int(found.group(1))}.{int(found.group(2))}' if found else None


def _is_question(low: str) -> bool:
    starts = (
        'what',
        'why',
        'how',
        'when',
        'where',
        'which',
        'who',
        'is ',
        'are ',
        'did ',
        'does ',
        'do ',
        'can you tell',
    )
    return (
        low.rstrip().endswith(('?', '？'))
        or low.startswith(starts)
        or _any(low, 'なぜ', 'どうして', '何', 'なに', 'いくら', 'どれ', 'いつ', 'どう', 'か？', 'の？', 'ですか')
    )


def _question(low: str) -> str | None:
    if _words(low, 'sleep', 'asleep', 'resting', 'rest\\b', 'wake', 'paused') or _any(
            low, '寝', '眠', 'スリープ', '休', '起き'):  # fmt: skip
        return SLEEPING
    if _words(low, 'deploy', 'launch', 'go live', 'publish', 'ship', 'block') or _any(
            low, 'デプロイ', '公開', 'リリース', 'ブロック', '阻'):  # fmt: skip
        return BLOCKERS
    if version_named(low) and (_words(low, 'chang', 'new', 'differ', 'updat', 'add', 'fix') or _any(
            low, '変', '新しい', '違', '追加', '更新', '修正')):  # fmt: skip
        return CHANGES
    if _words(low, 'spen', 'cost', 'budget', 'money', 'token', 'how much', 'allowance', 'bill', 'pay') or _any(
            low, '使った', '使い', '費用', 'コスト', '予算', 'いくら', 'トークン', '料金', '支出'):  # fmt: skip
        return SPEND
    if _words(low, 'decision', 'waiting for me', 'need from me', 'need me', 'stuck', 'escalat', 'options') or _any(
            low, '判断', '決定', '待って', '選択肢', '困って'):  # fmt: skip
        return QUESTION
    if _words(low, 'status', 'progress', 'how is', "how's", 'going', 'where are we', 'happening', 'doing') or _any(
            low, '状況', '状態', '進捗', 'ステータス', 'どうなって', '進み'):  # fmt: skip
        return STATUS
    return None


def _page(low: str) -> str | None:
    names = (
        ('changelog', ('changelog', '変更履歴', '変更点')), ('files', ('files', 'code', 'ファイル', 'コード')),
        ('change', ('change', '変更')), ('brief', ('brief', 'ブリーフ', '概要')),
        ('plan', ('plan', 'プラン', '計画')), ('interview', ('interview', 'インタビュー', '質問')),
        ('build', ('build', 'ビルド')), ('dashboard', ('dashboard', 'ダッシュボード', 'ホーム')),
        ('project', ('project', 'プロジェクト')),
    )  # fmt: skip
    return next((page for page, words in names if _any(low, *words)), None)


def _action(low: str, text: str) -> Intent | None:
    if _words(low, 'download') or _any(low, 'ダウンロード'):
        if _words(low, 'zip', 'code', 'files', 'source') or _any(low, 'コード', 'ファイル', 'ソース'):
            return Intent(ZIP)
        return Intent(DOCS)
    if _words(low, 'open', 'show me', 'go to', 'take me', 'navigate') or _any(low, '開いて', '開く', '見せて', '移動'):
        page = _page(low)
        if page:
            return Intent(OPEN, page)
    if _words(low, 'cancel', 'abort', 'stop the build', 'stop building') or _any(low, 'キャンセル', '中止', '止めて'):
        return Intent(CANCEL)
    if _words(low, 'retry', 'try again', 'restart') or _any(low, '再試行', 'やり直', 'もう一度'):
        return Intent(RETRY)
    if _words(low, 'start a build', 'start the build', 'start building', 'build it', 'build now', 'build my',
              'build again', 'rebuild', 'kick off', 'launch a build', 'start a new build') or _any(
            low, 'ビルドを開始', 'ビルド開始', 'ビルドして', 'ビルドを始め', '作り始め'):  # fmt: skip
        return Intent(START)
    option = _OPTION_NUMBER.search(low)
    if option or _words(low, 'go with', 'choose', 'pick', 'answer', 'recommended') or _any(low, 'を選', 'おすすめ'):
        number = next((g for g in (option.groups() if option else ()) if g), '')
        return Intent(ANSWER, number or text)
    if _words(low, 'add', 'change', 'make', 'remove', 'rename', 'replace', 'i want', "i'd like", 'please', 'could you',
              'can you', 'should have', 'put a', 'let ') or _any(
            low, '追加', '変更', '変えて', '削除', 'ほしい', '欲しい', 'してください', '加えて'):  # fmt: skip
        return Intent(CHANGE, _change_text(text))
    return None


def _change_text(text: str) -> str:
    """The change as the founder wrote it, without a leading 'change request:' label."""
    return re.sub(r'^\s*(?:change request|request|変更依頼|変更リクエスト)\s*[:：]\s*', '', text.strip(), flags=re.I)


def recognise(message: str) -> Intent:
    """The founder's intent. Questions are told first ("what did you change in v0.2?" is a question, not a
    change request); an action must be asked for in the founder's own words."""
    text = message.strip()
    low = text.lower()
    ref = _UUID.search(text)
    project_ref = uuid.UUID(ref.group(0)) if ref else None
    if not text:
        return Intent(HELP)
    if _words(low, 'help', 'what can you do') or _any(low, 'ヘルプ', '何ができ', 'なにができ'):
        return Intent(HELP, project_ref=project_ref)
    question = _question(low) if _is_question(low) else None
    if question:
        return Intent(question, version_named(low) or '', project_ref)
    action = _action(low, text)
    if action:
        return Intent(action.kind, action.text, project_ref)
    question = _question(low)
    return Intent(question or UNKNOWN, version_named(low) or '' if question else '', project_ref)
