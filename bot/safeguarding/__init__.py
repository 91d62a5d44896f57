"""Safeguarding: the rule-based screen every chat message passes through before Rasa.

The public API is in bot.safeguarding.screen (screen, Screener, ScreenResult, CATEGORIES); the
words and patterns are data in rules.yml.
"""
