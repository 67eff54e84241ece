"""What the helpline keeps, one module per reason to change.

Every function here takes an open :class:`~sqlalchemy.Connection`: the caller
(:meth:`bot.helpline.Helpline.receive`) owns the one transaction a message is
written in, and these only add statements to it.

- :mod:`bot.storage.tables`: the tables as SQLAlchemy Core sees them, and what
  differs between SQLite and PostgreSQL;
- :mod:`bot.storage.conversations`: one row per person, locked while their
  message is handled;
- :mod:`bot.storage.statistics`: the dashboard's daily counters;
- :mod:`bot.storage.questions`: what Pana could not answer, scrubbed, with no user id;
- :mod:`bot.storage.retention`: "borrar mis datos" and the purge of old rows.

The delivery ledger (a retried message is answered once) is the other side of
the house: :mod:`bot.delivery`.
"""
