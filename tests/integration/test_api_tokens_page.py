"""The founder manages API tokens on /account/tokens (OPS-4), in NiceGUI's simulated browser against main.py: a
token is shown once, works on the API, is listed with its start and last use, and stops working when revoked."""

from __future__ import annotations

from nicegui import app
from nicegui.testing import User

from core import accounts
from tests.ui.conftest import app_env, sign_up  # noqa: F401 - app_env (autouse): the app's own data dir and settings


async def test_a_token_is_shown_once_works_and_is_revoked(user: User) -> None:
    await sign_up(user, 'ada@example.com')
    await user.open('/account/tokens')
    await user.should_see('No tokens yet.')
    user.find(marker='create-token').click()
    await user.should_see('Give the token a name, so you know later what uses it.')

    user.find('Token name').type('<b>Deploy</b> bot')
    user.find(marker='create-token').click()
    await user.should_see(marker='new-token')
    secret = user.find(marker='token-secret').elements.pop().text
    assert secret.startswith('cf_')
    await user.should_see('<b>Deploy</b> bot')  # the name as typed, shown as text
    await user.should_see(f'{secret[:10]}…')
    await user.should_see('last used never', retries=5)

    headers = {'Authorization': f'Bearer {secret}'}
    assert (await user.http_client.get('/api/v1/projects', headers=headers)).json() == []
    await user.open('/account/tokens')  # a fresh page: the secret is not shown again, the use is
    await user.should_not_see(marker='new-token')
    await user.should_not_see(secret)
    await user.should_not_see('last used never')

    user.find(marker='revoke-token').click()
    await user.should_see('No tokens yet.')
    assert (await user.http_client.get('/api/v1/projects', headers=headers)).status_code == 401


async def test_the_page_needs_a_signed_in_founder(user: User) -> None:
    async with app.state.services.sessions() as session:  # someone has an account: the door is Log in
        await accounts.sign_up(session, email='grace@example.com', password='a long password 123')
    await user.open('/account/tokens')
    await user.should_see(marker='login-button')
