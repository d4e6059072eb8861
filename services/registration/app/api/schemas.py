"""What the JSON API reads and answers (pydantic models; their names are the OpenAPI components')."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from services.registration.domain.address import AddressForm
from services.registration.domain.signup import SignupForm

RequestId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ErrorItem(BaseModel):
    field: str
    code: str
    message: str


class ErrorsOut(BaseModel):
    errors: list[ErrorItem]


class MessageOut(BaseModel):
    message: str


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: str | None = Field(default=None, max_length=10)
    repetition_index: str | None = Field(default=None, max_length=10, description="bis, ter, quater")
    street_type: str | None = Field(default=None, max_length=40)
    street_name: str | None = Field(default=None, max_length=200)
    complement: str | None = Field(default=None, max_length=200)
    locality: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=100)


class RegistrationIn(BaseModel):
    """The sign-up form. Every field is checked by the domain rules, which report all errors at once."""

    model_config = ConfigDict(extra="ignore")
    nir: str | None = Field(default=None, max_length=40, description="13 characters (digits, or 2A/2B)")
    nir_key: str | None = Field(default=None, max_length=10, description="the 2-digit key")
    first_name: str | None = Field(default=None, max_length=200)
    birth_name: str | None = Field(default=None, max_length=200)
    phone_landline: str | None = Field(default=None, max_length=40)
    phone_mobile: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    email_confirmation: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=1000)
    password_confirmation: str | None = Field(default=None, max_length=1000)
    address: AddressIn | None = None
    highest_diploma: str | None = Field(default=None, max_length=40)
    apprenticeship_contract: bool = False
    cgu_accepted: bool = False
    website: str | None = Field(default=None, max_length=200, description="leave empty (anti-robot field)")

    def to_form(self) -> SignupForm:
        return SignupForm(
            nir=self.nir,
            nir_key=self.nir_key,
            first_name=self.first_name,
            birth_name=self.birth_name,
            phone_landline=self.phone_landline,
            phone_mobile=self.phone_mobile,
            email=self.email,
            email_confirmation=self.email_confirmation,
            password=self.password,
            password_confirmation=self.password_confirmation,
            address=AddressForm(**self.address.model_dump()) if self.address else None,
            highest_diploma=self.highest_diploma,
            apprenticeship_contract=self.apprenticeship_contract,
            cgu_accepted=self.cgu_accepted,
            honeypot=self.website,
        )


class RegistrationAccepted(BaseModel):
    request_id: str
    status: Literal["awaiting_captcha"]
    status_url: str


class RegistrationStatusOut(BaseModel):
    request_id: str
    status: Literal["awaiting_captcha", "awaiting_confirmation", "active", "expired", "rejected"]
    challenge: dict[str, Any] | None = None
    resends_left: int
    expires_at: datetime


class TokenIn(BaseModel):
    token: str = Field(min_length=16, max_length=200)


class ActivationOut(BaseModel):
    status: Literal["activated", "already_active"]
    message: str


class LoginIn(BaseModel):
    nir: str = Field(max_length=40)
    password: str = Field(max_length=1000)


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class ResetIn(BaseModel):
    nir: str = Field(max_length=40)


class ResetConfirmIn(BaseModel):
    token: str = Field(min_length=16, max_length=200)
    password: str = Field(max_length=1000)
    password_confirmation: str = Field(max_length=1000)
