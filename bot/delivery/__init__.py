"""Delivery: making sure each answer reaches the person once, whatever crashes.

Answering a webhook and delivering the answer are different jobs. The answer
travels in the webhook's HTTP response (TwiML, Telegram's ``sendMessage``,
the web chat's JSON); this side of the house remembers what was answered and
whether it went out.

- :mod:`bot.delivery.ledger`: one row per platform message id. Taking it is
  the last write of a message's transaction, so a retry is answered once; the
  replies stay stored until the channel confirms they were sent, so a retry
  after a crash gets the same answer again instead of silence.
- :mod:`bot.delivery.confirmations`: the queue of "it went out" records,
  written off the event loop, riding on the next message's commit when one
  comes first.

Replies sent later, to someone not waiting on a response (a staff member's
answer in a hand-off), belong here too: an outbox beside the ledger.
"""
