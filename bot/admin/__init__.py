"""The operators' dashboard at ``/admin``: aggregates only, behind ``ADMIN_TOKEN``.

Modules: :mod:`~bot.admin.auth` (token login, session cookie),
:mod:`~bot.admin.queries` (the figures), :mod:`~bot.admin.understanding` (ratings,
doubtful answers, danger by kind, grouped questions), :mod:`~bot.admin.names` (what
counted things are called), :mod:`~bot.admin.stale` (knowledge to
review, as a to-do list), :mod:`~bot.admin.chart` (SVG charts),
:mod:`~bot.admin.tables` (tables and their CSV), :mod:`~bot.admin.words` (the
page's words in Spanish and English), :mod:`~bot.admin.routes` (HTTP).
"""

from bot.admin.routes import router

__all__ = ["router"]
