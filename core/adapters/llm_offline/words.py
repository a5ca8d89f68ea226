"""What the offline model says while it builds, in the idea's language: narration, phase names, docs, summary.

Japanese ideas get Japanese sentences; every other language English frames around the founder's own
words, which are always quoted verbatim. Sentences are templates with named fields ({name}, {what}…);
`say(lang, key, **fields)` fills one in. Per-shape phrases (what a page has, how a check tries it, how
a founder uses it) keep the narration and docs specific to each feature.
"""

from __future__ import annotations

_EN: dict[str, str] = {
    'phase_plan': 'Plan the app',
    'phase_pages': 'Pages for {names}',
    'phase_home': 'Home page',
    'phase_style': 'Styling',
    'phase_check': 'Check and launch',
    'phase_understand': 'Understand the change',
    'phase_make': 'Make the change',
    'quote': '“{}”',
    'sep': ', ',
    'last_sep': ' and ',
    'plan_say': "I'm setting up the project structure for {noun}.",
    'pages_home': "I'm building the home page that explains your idea.",
    'page_one': "I'm building the {name} page with {what}.",
    'pages_many': "I'm building {n} pages: {items}.",
    'page_item': '{name} with {what}',
    'item_sep': '; ',
    'retry_say': "Saving that didn't work, so I'm trying again in a simpler form.",
    'style_say': "I'm giving your app a clean, friendly look that also works on a phone.",
    'check_say': "I'm checking that everything works before I show you.",
    'check_fix_say': "I found a mistake in the code, so I'm rewriting it in a simpler way.",
    'check_giveup_say': "The check still complains; I'll note it and keep going so you can try the app.",
    'shot_fail_say': "I couldn't take a picture of the app just yet; I'll carry on and you'll see it in the preview "
    'when the build is ready.',
    'shot_ok_say': 'Here is your app running: every feature has its own page.',
    'accept_say': "I'm trying {name} in a real browser, the way a user would: {how}.",
    'accept_fix_say': "{name} didn't pass its check, so I'm rewriting that page in a simpler way and trying again.",
    'accept_giveup_say': "{name} still doesn't pass its check; I'm noting it so you can see what failed.",
    'it_say': "I'm reading your app to see where {name} fits best.",
    'it_make_say': "I'm adding {name} as a new page, as you asked.",
    'it_rebuild_say': "I couldn't find the app, so I'm rebuilding it with your change included.",
    'it_edit_retry_say': "The app's layout wasn't what I expected, so I'm rewriting it with the change.",
    'share_say': "I'm adding a QR code to each page so it can be shared from a phone; that needs a package.",
    'share_skip_say': "As you decided, I'm leaving the QR codes out of this version and finishing the rest.",
    'share_heal_say': "The package can't be downloaded in the workspace, so I'm making the sharing links with "
    "Python's own tools instead.",
    'account_page': 'Account',
    'doc_overview': '**{title}**: {tagline}.{who}{problem}{change}',
    'doc_who': ' It is made for {audience}.',
    'doc_problem': '\n\nThe problem it tackles: {problem}',
    'doc_change': '\n\nLatest change: {name}.',
    'doc_features': 'Every feature has its own page, reachable from the menu at the top.\n\n{lines}',
    'doc_feature': '- **{name}**: {about}{usage}',
    'doc_no_features': '- A home page that explains the idea.',
    'doc_start': '1. Open the preview of your app.\n'
    '2. Use the menu at the top to open a page, for example {first}.\n'
    '3. {usage}\n'
    '4. Come back any time: what you saved is still there.',
    'doc_faq': '**Where is what I type kept?**\nIn the app itself, on the server it runs on. Nothing is sent '
    'elsewhere.\n\n'
    '**How do I know each feature works?**\nEach one has an acceptance check: I tried it in a real browser the '
    'way a user would, and the build page shows which checks passed.\n\n'
    '**Can I change a page or add one?**\nYes: ask for a change and I will build the next version.\n\n'
    '**Is it ready for real customers?**\nIt is a first version to try the idea. Before sharing it widely, '
    'check the deploy-readiness report.',
    'summary_change': 'I added {name} to {title}, checked the app and updated the documentation.',
    'summary': '{title} is ready: a home page{pages}. Each page is built for its feature. I {checked}, tried every '
    'feature in a browser{failing} and wrote the docs.',
    'summary_pages': ' and {n} pages: {names}',
    'summary_checked': 'checked it',
    'summary_tried': 'tried to check it',
    'summary_failing': ' ({names} not passing yet)',
    'what_generic': 'a form that saves entries and a list of them',
    'what_photos': 'a photo upload and a gallery',
    'what_calendar': 'date fields and a list in date order',
    'what_money': 'amounts, currencies and totals',
    'what_reviews': '1 to 5 stars and the average',
    'what_report': 'a report form with an optional photo and a status to follow',
    'what_directory': 'a list you can search',
    'what_login': 'sign-up and sign-in, with passwords stored safely',
    'how_generic': 'saving an entry and finding it in the list',
    'how_photos': 'uploading a photo and finding it in the gallery',
    'how_calendar': 'picking dates and seeing them in date order',
    'how_money': 'entering an amount and seeing it formatted',
    'how_reviews': 'rating it twice and seeing the average',
    'how_report': 'filing a report and changing its status',
    'how_directory': 'adding people and searching for one',
    'how_login': 'creating an account, signing out and signing in again',
    'use_generic': 'Fill in the title and the details, then press Save: your entry is listed below the form.',
    'use_photos': 'Give the photo a title, choose a picture and press Save: it appears in the gallery.',
    'use_calendar': 'Give it a title, pick a start date (and an end date if it lasts longer) and press Save: '
    'everything is listed in date order.',
    'use_money': 'Say what it is for, enter the amount, choose the currency and press Save: amounts and totals '
    'are shown formatted.',
    'use_reviews': 'Say what you are reviewing, choose 1 to 5 stars, add a comment and press Save: the averages '
    'are shown above the reviews.',
    'use_report': 'Describe the problem, add a photo if it helps and press Save; then change its status (Open, '
    'In progress, Done) as it is handled.',
    'use_directory': 'Add a name and some details and press Save; type in the search box to find someone.',
    'use_login': 'Create an account with your name, email and a password of at least 8 characters, then sign in '
    'with them.',
}

_JA: dict[str, str] = {
    'phase_plan': 'アプリの計画',
    'phase_pages': '{names}のページ',
    'phase_home': 'ホームページ',
    'phase_style': 'デザイン',
    'phase_check': '確認と公開',
    'phase_understand': '変更内容の確認',
    'phase_make': '変更の反映',
    'quote': '「{}」',
    'sep': '、',
    'last_sep': 'と',
    'plan_say': '{noun}の土台を用意しています。',
    'pages_home': 'アイデアを紹介するホームページを作っています。',
    'page_one': '{name}のページ（{what}）を作っています。',
    'pages_many': '{n}つのページを作っています：{items}。',
    'page_item': '{name}（{what}）',
    'item_sep': '、',
    'retry_say': '保存がうまくいかなかったので、もっと簡単な形でやり直します。',
    'style_say': 'スマートフォンでも使いやすい、すっきりした見た目に整えています。',
    'check_say': 'お見せする前に、すべてが動くか確認しています。',
    'check_fix_say': 'コードに間違いが見つかったので、もっと簡単な形で書き直します。',
    'check_giveup_say': 'まだ確認で問題が出ますが、記録したうえで先に進み、アプリを試せるようにします。',
    'shot_fail_say': 'まだアプリの画面を撮れませんでした。このまま進めます。完成したらプレビューで見られます。',
    'shot_ok_say': 'アプリが動いています。機能ごとにページがあります。',
    'accept_say': '{name}を、使う人と同じように実際のブラウザで試しています（{how}）。',
    'accept_fix_say': '{name}が確認に通らなかったので、そのページを簡単な形で書き直して、もう一度試します。',
    'accept_giveup_say': '{name}はまだ確認に通りません。何がうまくいかないか見られるように記録しておきます。',
    'it_say': '{name}をどこに入れるのがよいか、アプリを読んで確かめています。',
    'it_make_say': 'ご依頼どおり、{name}を新しいページとして追加しています。',
    'it_rebuild_say': 'アプリが見つからなかったので、ご依頼の変更を含めて作り直します。',
    'it_edit_retry_say': 'アプリの構成が想定と違ったので、変更を含めて書き直します。',
    'share_say': 'スマートフォンから共有できるよう、各ページにQRコードを付けます。そのためのパッケージが必要です。',
    'share_skip_say': 'ご判断どおり、今回のバージョンではQRコードを省き、残りを仕上げます。',
    'share_heal_say': '作業環境ではパッケージをダウンロードできないので、Python の標準機能で共有リンクを作ります。',
    'account_page': 'アカウント',
    'doc_overview': '**{title}**：{tagline}{who}{problem}{change}',
    'doc_who': '\n\n対象：{audience}',
    'doc_problem': '\n\n解決する課題：{problem}',
    'doc_change': '\n\n最新の変更：{name}',
    'doc_features': '機能ごとにページがあり、上のメニューから開けます。\n\n{lines}',
    'doc_feature': '- **{name}**：{about}{usage}',
    'doc_no_features': '- アイデアを紹介するホームページ',
    'doc_start': '1. アプリのプレビューを開きます。\n'
    '2. 上のメニューからページを開きます（例：{first}）。\n'
    '3. {usage}\n'
    '4. 保存した内容は、あとで戻ってきても残っています。',
    'doc_faq': '**入力した内容はどこに保存されますか？**\n'
    'アプリが動いているサーバーの中です。ほかの場所には送られません。\n\n'
    '**各機能が動くことはどうやってわかりますか？**\n機能ごとに受け入れチェックがあります。実際のブラウザで、使う人と同じ'
    'ように試しました。どのチェックに通ったかはビルドの画面で確認できます。\n\n'
    '**ページを変えたり、追加したりできますか？**\nはい。変更を依頼していただければ、次のバージョンを作ります。\n\n'
    '**本番のお客さまに使ってもらえますか？**\nアイデアを試すための最初のバージョンです。広く公開する前に、'
    'デプロイ準備のレポートを確認してください。',
    'summary_change': '{title}に{name}を追加し、アプリを確認して、ドキュメントを更新しました。',
    'summary': '{title}ができました：ホームページ{pages}。各ページはそれぞれの機能に合わせて作りました。{checked}、'
    'すべての機能をブラウザで試し{failing}、ドキュメントを書きました。',
    'summary_pages': 'と{n}つのページ（{names}）',
    'summary_checked': 'コードを確認し',
    'summary_tried': 'コードの確認を試み',
    'summary_failing': '（{names}はまだ確認に通っていません）',
    'what_generic': '入力を保存して一覧にするフォーム',
    'what_photos': '写真のアップロードとギャラリー',
    'what_calendar': '日付の入力と日付順の一覧',
    'what_money': '通貨付きの金額と合計',
    'what_reviews': '星1つから5つの評価と平均',
    'what_report': '写真も添えられる報告フォームと対応状況',
    'what_directory': '検索できる一覧',
    'what_login': 'パスワードを安全に保存するアカウント作成とログイン',
    'how_generic': '1件保存して一覧で見つける',
    'how_photos': '写真をアップロードしてギャラリーで見つける',
    'how_calendar': '日付を選んで日付順に並ぶか見る',
    'how_money': '金額を入力して正しい表示になるか見る',
    'how_reviews': '2回評価して平均を見る',
    'how_report': '報告を送って状態を変える',
    'how_directory': '登録してから検索する',
    'how_login': 'アカウントを作り、ログアウトしてもう一度ログインする',
    'use_generic': 'タイトルと詳細を入力して「保存」を押すと、フォームの下の一覧に表示されます。',
    'use_photos': '写真にタイトルを付けて画像を選び、「保存」を押すとギャラリーに表示されます。',
    'use_calendar': 'タイトルを入力して開始日（数日にわたる場合は終了日も）を選び、「保存」を押すと日付順に並びます。',
    'use_money': '内容と金額を入力して通貨を選び、「保存」を押すと、金額と合計が見やすく表示されます。',
    'use_reviews': '評価の対象を入力して星1つから5つを選び、コメントを添えて「保存」を押すと、平均が表示されます。',
    'use_report': '問題を書き、必要なら写真を添えて「保存」を押します。対応に合わせて状態（未対応・対応中・完了）を'
    '変えられます。',
    'use_directory': '名前と詳細を入力して「保存」を押します。検索欄に入力すると、その人が見つかります。',
    'use_login': '名前、メールアドレス、8文字以上のパスワードでアカウントを作り、それを使ってログインします。',
}

_WORDS = {'en': _EN, 'ja': _JA}


def say(lang: str, key: str, **fields: object) -> str:
    """One sentence of the model's speech in `lang` ('ja' or English), its fields filled in."""
    template = _WORDS.get(lang, _EN)[key]
    return template.format(**fields) if fields else template


def quote(lang: str, text: str) -> str:
    """The founder's words set off as a name: “Reviews” / 「レビュー」."""
    return say(lang, 'quote').format(text)


def join(lang: str, items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (Japanese: 'a、bとc')."""
    if len(items) <= 1:
        return ''.join(items)
    return say(lang, 'sep').join(items[:-1]) + say(lang, 'last_sep') + items[-1]
