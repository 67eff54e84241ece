"""Hand-offs: conversations a partner organisation's staff took over, with consent.

- :mod:`bot.handoff.sealing`: encryption at rest (Fernet, ``HANDOFF_KEY``).
- :mod:`bot.handoff.store`: the rows, written by the helpline (the person's side,
  inside its one transaction per message) and by the inbox (the staff's side).
- :mod:`bot.handoff.outbox` and :mod:`bot.handoff.senders`: staff replies on
  their way out through Twilio's REST API or the Telegram Bot API.
"""
