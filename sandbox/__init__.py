"""Cunmin's sandbox: a local Telegram Bot API emulator for contract and end-to-end tests.

Main entry points (imported from their modules, so that ``python -m sandbox.emulator`` stays clean):

* ``sandbox.emulator.Emulator``: the emulator (aiohttp server + simulated users and chats);
* ``sandbox.spec.validate_request`` / ``validate_object``: the Bot API 10.1 validator;
* ``sandbox.testing``: ``bot_for``, ``close_bot``, ``audit``, ``make_png`` for test suites.
"""
