"""Admin · Models (AD-2, BU-7): the global default model, each tier's model per role, the price table, and the
providers' status with a real test call; the audit log."""

from __future__ import annotations

from nicegui import ui

from core import admin_models, tiers_admin
from core.admin_settings import global_default_model
from core.models import Tier, User
from core.services import Services
from ui import page_route
from ui.components.admin_audit import AuditLog
from ui.components.admin_frame import admin_frame, admin_user, attempt, when

ROLES_NOTE = ('builder: the agent that writes the app · journey: interview, brief and plans · chat: the co-founder '
              'chat. Empty: the global default.')  # fmt: skip


def register(svc: Services) -> None:
    @page_route.page('/admin/models', title='Admin · Models · Cofounder')
    async def models_page():  # type: ignore[no-untyped-def]
        actor = await admin_user(svc, '/admin/models')
        if not isinstance(actor, User):
            return actor
        with admin_frame(svc, actor, 'Models'):
            await ModelsPage(svc, actor).refresh()  # drawn before the page is sent
        return None


class ModelsPage:
    def __init__(self, svc: Services, actor: User) -> None:
        self.svc, self.actor = svc, actor
        ui.label(
            'Which model a call uses: the founder’s override (Users page), else their tier’s model for the role, '
            'else the global default. A build keeps the model it started with.'
        ).classes('text-sm text-slate-600 dark:text-slate-300')
        self.body = ui.column().classes('w-full gap-4')
        self.audit = AuditLog(svc, actor, 'models')

    async def refresh(self) -> None:
        settings = self.svc.settings
        async with self.svc.sessions() as session:
            default = await global_default_model(session)
            tiers = await tiers_admin.list_tiers(session, actor=self.actor)
            configured = admin_models.configured_providers(anthropic_key=bool(settings.ANTHROPIC_API_KEY),
                                                           openai_url=bool(settings.OPENAI_BASE_URL))  # fmt: skip
            providers = await admin_models.provider_statuses(session, actor=self.actor, configured=configured,
                                                             in_use=self.svc.llm.name)  # fmt: skip
        self.body.clear()
        with self.body:
            self._global_default(default)
            self._tier_models(tiers)
            self._providers(providers)
            self._prices()
        await self.audit.refresh()

    async def _change(self, run, success: str) -> None:  # type: ignore[no-untyped-def]
        await attempt(run, success)
        await self.refresh()

    def _global_default(self, default: str) -> None:
        configured = self.svc.settings.DEFAULT_MODEL or self.svc.llm.default_model
        with ui.card().classes('w-full gap-2').mark('global-default'):
            ui.label('Global default').classes('text-xl font-semibold')
            with ui.row().classes('items-end gap-2'):
                model = ui.input('Default model', value=default, placeholder=f'{configured} (configured)')
                model.classes('w-72').mark('model-default')

                async def save() -> None:
                    async def run() -> None:
                        async with self.svc.sessions() as session:
                            await admin_models.set_global_default(session, actor=self.actor, model=model.value or '')

                    await self._change(run, 'Global default saved')

                ui.button('Save', on_click=save).mark('model-default-save')
            ui.label(f'Empty: the configured default, {configured}.').classes('text-sm text-slate-500')

    def _tier_models(self, tiers: list[Tier]) -> None:
        with ui.card().classes('w-full gap-2').mark('tier-models'):
            ui.label('Default per tier and role').classes('text-xl font-semibold')
            ui.label(ROLES_NOTE).classes('text-sm text-slate-500')
            for tier in tiers:
                self._tier_row(tier)

    def _tier_row(self, tier: Tier) -> None:
        with ui.row().classes('w-full items-end gap-2 border-t pt-2'):
            ui.label(tier.label).classes('font-medium w-40')
            boxes = {
                role: ui.input(role, value=tier.models.get(role, ''))
                .classes('w-56')
                .mark(f'tier-model-{tier.name}-{role}')
                for role in tiers_admin.MODEL_ROLES
            }

            async def save() -> None:
                async def run() -> None:
                    async with self.svc.sessions() as session:
                        current = await session.get(Tier, tier.name)
                        assert current is not None
                        form = tiers_admin.form_of(current)
                        form.models = {role: box.value or '' for role, box in boxes.items()}
                        await tiers_admin.update_tier(session, actor=self.actor, form=form, area='models')

                await self._change(run, f'{tier.label}: models saved')

            ui.button('Save', on_click=save).props('flat').mark(f'tier-models-save-{tier.name}')

    def _providers(self, providers: list[admin_models.ProviderStatus]) -> None:
        with ui.card().classes('w-full gap-2').mark('providers'):
            ui.label('Providers').classes('text-xl font-semibold')
            for status in providers:
                with ui.column().classes('w-full gap-0 border-t pt-2').mark(f'provider-{status.name}'):
                    with ui.row().classes('items-center gap-2'):
                        ui.label(status.label).classes('font-medium')
                        if status.in_use:
                            ui.badge('in use', color='positive')
                        ui.badge('configured' if status.configured else 'not configured',
                                 color='primary' if status.configured else 'grey').props('outline')  # fmt: skip
                    ui.label(status.note).classes('text-sm')
                    ui.label(_reachable(status)).classes('text-sm').mark(f'provider-reachable-{status.name}')
                    if status.last_error:
                        ui.label(f'Last error {when(status.last_error_at)}: {status.last_error}').classes(
                            'text-sm text-negative'
                        ).mark(f'provider-error-{status.name}')
                    if status.in_use:
                        ui.button('Test the provider', on_click=self._test).props('outline dense').mark('provider-test')

    async def _test(self) -> None:
        """A tiny real call, accounted to the admin like any other call."""
        svc = self.svc
        async with svc.sessions() as session:
            model = await global_default_model(session) or svc.model
        llm = svc.llm_for(self.actor.id, None, role='provider_test')
        result = await admin_models.check_provider(svc.sessions, actor=self.actor, llm=llm, provider=svc.llm.name,
                                                   model=model)  # fmt: skip
        ui.notify(f'{"Reachable" if result.ok else "Failed"} in {result.seconds} s: {result.detail}',
                  type='positive' if result.ok else 'negative', multi_line=True)  # fmt: skip
        await self.refresh()

    def _prices(self) -> None:
        with ui.card().classes('w-full gap-1').mark('price-table'):
            ui.label('Price table').classes('text-xl font-semibold')
            ui.label('Dollars per million tokens, as every call is accounted. A model not listed costs Sonnet’s '
                     'price on Anthropic and nothing on the offline model or a self-hosted endpoint.').classes(
                'text-sm text-slate-500')  # fmt: skip
            for model, price in admin_models.price_table():
                ui.label(f'{model}: ${price.input_per_mtok:g} in · ${price.output_per_mtok:g} out').classes(
                    'text-sm font-mono'
                ).mark('price-row')


def _reachable(status: admin_models.ProviderStatus) -> str:
    if status.reachable is None:
        return 'Reachable: not tested yet.'
    return f'Reachable: {"yes" if status.reachable else "no"} (tested {when(status.tested_at)}).'
