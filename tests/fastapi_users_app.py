"""A real FastAPI backend on fastapi-users' cookie authentication, for profile-driven runs.

Its routes differ from Aegis's: form login that answers 204 with the cookie
(``/auth/cookie/login``), identity at ``/users/me`` (by email), JSON registration that
does not sign in, logout at ``/auth/cookie/logout``, no refresh. Tokens live in SQLite
(DatabaseStrategy), so a logout revokes them. Serve with::

    AEGIS_FASTAPI_USERS_DB=/tmp/users.db uvicorn tests.fastapi_users_app:app --port 0
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, CookieTransport
from fastapi_users.authentication.strategy.db import DatabaseStrategy
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import (
    SQLAlchemyAccessTokenDatabase,
    SQLAlchemyBaseAccessTokenTableUUID,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):
    pass


engine = create_async_engine(
    "sqlite+aiosqlite:///" + os.environ.get("AEGIS_FASTAPI_USERS_DB", "fastapi_users.db")
)
session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_session)) -> AsyncIterator[Any]:
    yield SQLAlchemyUserDatabase(session, User)


async def get_token_db(session: AsyncSession = Depends(get_session)) -> AsyncIterator[Any]:
    yield SQLAlchemyAccessTokenDatabase(session, AccessToken)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = "bench-reset"
    verification_token_secret = "bench-verify"


async def get_user_manager(user_db: Any = Depends(get_user_db)) -> AsyncIterator[UserManager]:
    yield UserManager(user_db)


def get_strategy(token_db: Any = Depends(get_token_db)) -> DatabaseStrategy[Any, Any, Any]:
    return DatabaseStrategy(token_db, lifetime_seconds=3600)


backend = AuthenticationBackend(
    name="cookie",
    transport=CookieTransport(cookie_name="benchauth", cookie_secure=False, cookie_max_age=3600),
    get_strategy=get_strategy,
)
users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])
current_user = users.current_user(active=True)


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(users.get_auth_router(backend), prefix="/auth/cookie")
app.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users")


@app.get("/items")
async def items(user: User = Depends(current_user)) -> list[dict[str, Any]]:
    """The signed-in user's records, each naming its owner."""
    return [{"id": f"{user.id}-{i}", "owner": user.email} for i in range(2)]
