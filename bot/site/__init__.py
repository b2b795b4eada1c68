"""The public face of the place, served by the bot's HTTP server (issue 19): the agenda, one page per event
date, an embeddable widget, each space's free times this week, and the coordinators' dashboard.

Register with ``WebServer.add_routes(site_routes(...))`` (bot.app does when PUBLIC_URL is set). Pages are
Jinja2 templates (autoescaped) under ``bot/site/templates``; no JavaScript."""

from bot.site.routes import BotLinks, bot_links_of, site_routes

__all__ = ["BotLinks", "bot_links_of", "site_routes"]
