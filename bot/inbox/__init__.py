"""The staff inbox at ``/inbox``: accounts and sessions, the JSON API, the page."""
