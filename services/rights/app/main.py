"""Wiring of the rights service: partner declarations, activations, and the holder's balances over HTTP."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contracts import topics
from contracts.partner_topic import PartnerMessage
from contracts.registration import AccountActivated
from contracts.rights import BalancesProjected
from eventing.batches import subscribe_batch
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.service import ServiceRuntime, in_background
from services.rights.adapters.kafka_replay import kafka_topic_replay
from services.rights.adapters.redis_ledger import RightsStore
from services.rights.adapters.session_tokens import SessionTokens
from services.rights.app.collector import tune_collector
from services.rights.app.deps import CurrentHolder, NotLoggedIn, unauthorized
from services.rights.app.labels import label
from services.rights.settings import Settings
from services.rights.use_cases.partner_mapping import balances_to_contract
from services.rights.use_cases.projection import RightsService
from services.rights.use_cases.queries import RightsView, rights_view

GROUP = "rights"
log = logging.getLogger("rights.app")


class HistoryLineOut(BaseModel):
    account: str
    date: str
    label: str
    amount: str
    unit: str


class MyRightsOut(BaseModel):
    balances: BalancesProjected
    history: list[HistoryLineOut]
    highest_diploma_note: str

    @classmethod
    def of(cls, view: RightsView) -> MyRightsOut:
        return cls(
            balances=balances_to_contract(view.holder_id, view.balances, view.as_of),
            history=[
                HistoryLineOut(
                    account=str(h.account),
                    date=h.on.isoformat(),
                    label=label(h),
                    amount=f"{h.amount:.2f}",
                    unit=str(h.unit),
                )
                for h in view.history
            ],
            highest_diploma_note="Renseignez votre plus haut diplôme : sans diplôme de niveau CAP/BEP, vos "
            "droits sont majorés (800 € par an, plafond 8 000 €).",
        )


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    rt = ServiceRuntime.create("rights", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url)
    store = RightsStore(rt.redis)

    @functools.cache
    def svc() -> RightsService:
        # The holder-id key is read at first use: the process can be built (AsyncAPI) without secrets.
        return RightsService(store, rt.publisher, settings.holder_key())

    # A fetch at a time: each holder's declarations of it are recorded in one pass (eventing.batches).
    # ``payload`` gives the AsyncAPI document its oneOf; the service reads the raw bytes strictly.
    @subscribe_batch(rt.broker, rt.guard, topics.PARTNER_DECLARATIONS, group_id=GROUP, payload=PartnerMessage)
    async def declaration(values: list[bytes]) -> Mapping[int, str]:
        return await svc().on_declarations(values)

    @subscribe(rt.broker, rt.guard, topics.ACCOUNT_ACTIVATED, group_id=GROUP)
    async def account_activated(event: AccountActivated, env: CurrentEnvelope) -> None:
        await svc().on_account_activated(event.holder_id, event.birth_year_month, event.activated_at, env.event_id)

    declare_publisher(rt.broker, topics.BALANCES_PROJECTED)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_collector()  # holders' rights: many long-lived objects without cycles (see collector.py)
        # Consumers wait at the gate until the ledgers are rebuilt (a first start, or a wiped Redis).
        rebuild = lambda: svc().rebuild(kafka_topic_replay(settings.kafka_bootstrap_servers))  # noqa: E731
        async with rt.lifespan(app), in_background(rt.watch_state(store.needs_rebuild, rebuild, marker=store.REBUILT)):
            yield

    app = FastAPI(
        title="Mes droits",
        lifespan=lifespan,
        openapi_url="/api/v1/me/rights/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    rt.add_operational_routes(app)

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> JSONResponse:
        return unauthorized(exc.message)

    app.state.sessions = SessionTokens(settings.session_public_key)

    @app.get(
        "/api/v1/me/rights",
        response_model=MyRightsOut,
        responses={401: {}},
        summary="The logged-in holder's balances and their history",
    )
    async def my_rights(holder_id: CurrentHolder) -> Any:
        return MyRightsOut.of(await rights_view(svc(), holder_id))

    return rt, app


def create_app() -> FastAPI:
    return build()[1]
