"""The home page and the general conditions of use."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.registration.app.deps import Setup
from services.registration.app.web.deps import Page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(page: Page) -> HTMLResponse:
    return await page.render("home.html", title="Mon Compte Formation")


@router.get("/cgu", response_class=HTMLResponse)
async def cgu(page: Page, setup: Setup) -> HTMLResponse:
    return await page.render(
        "cgu.html",
        title="Conditions générales d'utilisation",
        cgu_text=setup.cgu_text,
        version=setup.registration.cgu.version,
    )
