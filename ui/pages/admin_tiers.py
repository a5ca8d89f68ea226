"""Admin · Tiers and budgets (AD-4, BU-1): each tier's allowance, period, concurrency, iteration depth, priority
and models; create one or edit one, with every bad value named and nothing saved; the audit log."""

from __future__ import annotations

from nicegui import ui

from core import tiers_admin
from core.errors import CofounderError
from core.models import Tier, User
from core.services import Services
from ui import page_route
from ui.components.admin_audit import AuditLog
from ui.components.admin_frame import admin_frame, admin_user, dollars

FIELDS = (  # form field → label
    ('token_allowance', 'Token allowance per period'),
    ('dollars', 'Dollar allowance per period (empty: tokens only)'),
    ('period_days', 'Period (days)'),
    ('max_concurrent_user', 'Builds at once per founder'),
    ('max_concurrent_project', 'Builds at once per project'),
    ('max_iterations', 'Iterations per project'),
    ('priority', 'Priority (higher runs first)'),
)


def register(svc: Services) -> None:
    @page_route.page('/admin/tiers', title='Admin · Tiers and budgets · Cofounder')
    async def tiers_page():  # type: ignore[no-untyped-def]
        actor = await admin_user(svc, '/admin/tiers')
        if not isinstance(actor, User):
            return actor
        with admin_frame(svc, actor, 'Tiers and budgets'):
            await TiersPage(svc, actor).refresh()  # drawn before the page is sent
        return None


class TiersPage:
    def __init__(self, svc: Services, actor: User) -> None:
        self.svc, self.actor = svc, actor
        self.table = ui.column().classes('w-full gap-2')
        self.form_box = ui.column().classes('w-full')
        self.audit = AuditLog(svc, actor, 'tiers')

    async def refresh(self) -> None:
        async with self.svc.sessions() as session:
            tiers = await tiers_admin.list_tiers(session, actor=self.actor)
        self.table.clear()
        with self.table:
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('A founder’s tier sets their allowance and pace; changes apply at their next model call.')
                ui.button('New tier', icon='add', on_click=lambda: self.open_form(None)).mark('tier-new')
            for tier in tiers:
                self._tier_card(tier)
        await self.audit.refresh()

    def _tier_card(self, tier: Tier) -> None:
        money = '' if tier.cost_allowance_microdollars is None else f' · {dollars(tier.cost_allowance_microdollars)}'
        models = ', '.join(f'{role}: {model}' for role, model in sorted(tier.models.items())) or 'global default'
        with ui.card().classes('w-full gap-0').mark(f'tier-{tier.name}'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label(f'{tier.label} ({tier.name})').classes('font-medium')
                ui.button('Edit', on_click=lambda: self.open_form(tier)).props('flat dense').mark(
                    f'tier-edit-{tier.name}'
                )
            ui.label(
                f'{tier.token_allowance:,} tokens{money} per {tier.period_days} days · '
                f'{tier.max_concurrent_user} build(s) at once per founder, {tier.max_concurrent_project} per project · '
                f'{tier.max_iterations} iterations · priority {tier.priority}'
            ).classes('text-sm').mark(f'tier-summary-{tier.name}')
            ui.label(f'Models: {models}').classes('text-sm text-slate-500')

    def open_form(self, tier: Tier | None) -> None:
        """The form for a new tier (empty) or for `tier` (its values)."""
        form = tiers_admin.form_of(tier) if tier else tiers_admin.TierForm('', '', 60_000_000, '', 30, 1, 1, 3, 0)
        self.form_box.clear()
        with self.form_box, ui.card().classes('w-full gap-2').mark('tier-form'):
            ui.label(f'Edit {tier.label}' if tier else 'New tier').classes('text-xl font-semibold')
            with ui.row().classes('w-full gap-3'):
                name = ui.input('Tier id (lowercase)', value=form.name).classes('w-56').mark('tier-form-name')
                if tier:
                    name.props('readonly')
                label = ui.input('Name shown to founders', value=form.label).classes('w-56').mark('tier-form-label')
            with ui.row().classes('w-full gap-3'):
                boxes = {
                    key: ui.input(text, value=str(getattr(form, key))).classes('w-64').mark(f'tier-form-{key}')
                    for key, text in FIELDS
                }
            with ui.row().classes('w-full gap-3'):
                models = {
                    role: ui.input(f'Model for {role}', value=form.models.get(role, ''))
                    .classes('w-64')
                    .mark(f'tier-form-model-{role}')
                    for role in tiers_admin.MODEL_ROLES
                }
            error = ui.label().classes('text-negative').mark('tier-error')

            async def save() -> None:
                typed = tiers_admin.TierForm(
                    name.value or '',
                    label.value or '',
                    **{key: box.value for key, box in boxes.items()},
                    models={role: box.value or '' for role, box in models.items()},
                )
                try:
                    async with self.svc.sessions() as session:
                        if tier:
                            await tiers_admin.update_tier(session, actor=self.actor, form=typed)
                        else:
                            await tiers_admin.create_tier(session, actor=self.actor, form=typed)
                except CofounderError as problem:
                    error.set_text(str(problem))
                    return
                ui.notify(f'Tier {typed.label.strip()} saved', type='positive')
                self.form_box.clear()
                await self.refresh()

            with ui.row():
                ui.button('Save tier', on_click=save).mark('tier-save')
                ui.button('Cancel', on_click=self.form_box.clear).props('flat')
