"""The staff inbox: conversations handed off to a person at a partner organisation."""
