"""Wiring of the rights service: partner declarations, activations, and the holder's balances over HTTP."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaMessage
from pydantic import BaseModel

from contracts import topics
from contracts.partner_topic import PartnerMessage
from contracts.registration import AccountActivated
from contracts.rights import BalancesProjected
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.service import ServiceRuntime, in_background
from services.rights.adapters.partner_mapping import balances_to_contract
from services.rights.adapters.redis_ledger import RightsStore
from services.rights.domain import Holder, HolderRights, YearMonth
from services.rights.handlers import RightsService
from services.rights.settings import Settings

GROUP = "rights"
AUDIENCE, ISSUER = "mcf", "mcf-registration"
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


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": "authorization", "code": "unauthorized", "message": message}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="mcf"'},
    )


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    rt = ServiceRuntime.create("rights", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url)
    store = RightsStore(rt.redis)

    @functools.cache
    def svc() -> RightsService:
        # The holder-id key is read at first use: the process can be built (AsyncAPI) without secrets.
        return RightsService(store, rt.publisher, settings.holder_key())

    @subscribe(rt.broker, rt.guard, topics.PARTNER_DECLARATIONS, group_id=GROUP)
    async def declaration(body: PartnerMessage, message: KafkaMessage) -> None:
        # ``body`` gives the AsyncAPI document its oneOf; the service reads the raw bytes strictly.
        await svc().on_declaration(message.body)

    @subscribe(rt.broker, rt.guard, topics.ACCOUNT_ACTIVATED, group_id=GROUP)
    async def account_activated(event: AccountActivated, env: CurrentEnvelope) -> None:
        await svc().on_account_activated(event.holder_id, event.birth_year_month, event.activated_at, env.event_id)

    declare_publisher(rt.broker, topics.BALANCES_PROJECTED)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Consumers wait at the gate until the ledgers are rebuilt (a first start, or a wiped Redis).
        rebuild = lambda: svc().rebuild(settings.kafka_bootstrap_servers)  # noqa: E731
        async with rt.lifespan(app), in_background(rt.watch_state(store.needs_rebuild, rebuild)):
            yield

    app = FastAPI(
        title="Mes droits",
        lifespan=lifespan,
        openapi_url="/api/v1/me/rights/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    rt.add_operational_routes(app)

    @app.get(
        "/api/v1/me/rights",
        response_model=MyRightsOut,
        responses={401: {}},
        summary="The logged-in holder's balances and their history",
    )
    async def my_rights(authorization: Annotated[str | None, Header()] = None) -> Any:
        if not authorization or not authorization.lower().startswith("bearer "):
            return unauthorized("Connectez-vous pour consulter vos droits.")
        try:
            claims = jwt.decode(
                authorization[7:],
                settings.session_public_key(),
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
            )
        except jwt.PyJWTError:
            return unauthorized("Votre session a expiré : reconnectez-vous.")
        holder_id = str(claims["sub"])
        found = await svc().rights_of(holder_id)
        rights = found[1] if found else HolderRights(Holder(YearMonth(1970, 1)))
        today = datetime.now(UTC).date()
        history = [
            HistoryLineOut(
                account=str(h.account),
                date=h.on.isoformat(),
                label=h.label,
                amount=f"{h.amount:.2f}",
                unit=str(h.unit),
            )
            for h in rights.history()
        ]
        return MyRightsOut(
            balances=balances_to_contract(holder_id, rights.balances(today), today),
            history=history,
            highest_diploma_note="Renseignez votre plus haut diplôme : sans diplôme de niveau CAP/BEP, vos "
            "droits sont majorés (800 € par an, plafond 8 000 €).",
        )

    return rt, app


def create_app() -> FastAPI:
    return build()[1]
