"""Typed application state (aiohttp AppKey), shared by routes in bot/ and connectors/."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.channels import ChannelRegistry
from bot.engine import EngineClient
from bot.services.conversations import MessageFlow
from bot.services.outbox import Dispatcher
from bot.settings import Settings
from bot.store.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
HTTP = web.AppKey("http", aiohttp.ClientSession)
ENGINE = web.AppKey("engine", EngineClient)
CHANNELS = web.AppKey("channels", ChannelRegistry)
FLOW = web.AppKey("flow", MessageFlow)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
