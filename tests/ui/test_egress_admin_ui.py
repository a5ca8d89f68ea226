"""The sandbox egress allowlist on the admin's System page: shown with its default, edited, refused when a
value is not a host name (nothing saved), and audited."""

from __future__ import annotations

from nicegui import app
from nicegui.testing import User

from core.admin_settings import egress_allowlist
from core.services import Services
from tests.ui.test_admin_ui import WAIT, audit_actions, sign_up


def services() -> Services:
    return app.state.services


async def test_the_system_page_edits_the_egress_allowlist(user: User) -> None:
    await sign_up(user, 'admin@example.com')
    await user.open('/admin/system')
    await user.should_see(marker='egress-hosts', retries=WAIT)
    shown = user.find(marker='egress-hosts').elements.pop().value
    assert shown == 'registry.npmjs.org, pypi.org, files.pythonhosted.org'
    user.find(marker='egress-hosts').clear().type('pypi.org, http://evil.example/')
    user.find(marker='egress-save').click()
    await user.should_see('Not a host name (or host:port): http://evil.example/', retries=WAIT)
    user.find(marker='egress-hosts').clear().type('pypi.org files.pythonhosted.org')
    user.find(marker='egress-save').click()
    await user.should_see('Allowed hosts saved', retries=WAIT)
    with user.scope(marker='audit-log'):
        await user.should_see('setting.egress_allowlist', retries=WAIT)
    async with services().sessions() as session:
        assert await egress_allowlist(session) == ['pypi.org', 'files.pythonhosted.org']
    assert await audit_actions('system') == ['setting.egress_allowlist']
