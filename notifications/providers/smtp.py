"""Email over SMTP (the standard library's client, in a thread), with a one-click unsubscribe header on marketing."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from notifications.policy import Channel
from notifications.providers.base import (
    OutboundMessage,
    PermanentProviderError,
    ProviderError,
    Receipt,
    TransientProviderError,
    Undeliverable,
)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    sender: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout_s: float = 10.0


class SmtpProvider:
    name = "smtp"
    channel = Channel.EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.config.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        domain = self.config.sender.rsplit("@", 1)[-1].strip("> ")
        email["Message-ID"] = f"<{message.id}@{domain}>"  # the same on a retry: mail clients fold duplicates
        if message.unsubscribe_url:
            email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
        email.set_content(message.body)
        return email

    def _send(self, email: EmailMessage) -> None:
        config = self.config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(email)

    async def send(self, message: OutboundMessage) -> Receipt:
        email = self.build(message)
        try:
            await asyncio.to_thread(self._send, email)
        except smtplib.SMTPAuthenticationError as error:
            raise PermanentProviderError(f"SMTP login refused: {error.smtp_code}", code=str(error.smtp_code)) from None
        except smtplib.SMTPRecipientsRefused as error:
            code, said = next(iter(error.recipients.values()))
            refused: type[ProviderError] = TransientProviderError if 400 <= code < 500 else Undeliverable
            raise refused(f"SMTP {code}: {_text(said)}", code=str(code)) from None
        except smtplib.SMTPResponseException as error:
            kind: type[ProviderError] = (
                TransientProviderError if 400 <= error.smtp_code < 500 else PermanentProviderError
            )
            raise kind(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}", code=str(error.smtp_code)) from None
        except (smtplib.SMTPException, OSError) as error:  # disconnected, refused, timed out
            raise TransientProviderError(f"SMTP: {type(error).__name__}: {error}", code="connection") from None
        return Receipt(provider_id=str(email["Message-ID"]))

    async def aclose(self) -> None:
        return None


def _text(said: bytes | str) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else said
