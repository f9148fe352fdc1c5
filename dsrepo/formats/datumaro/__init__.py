"""Datumaro 1.x JSON format (``annotations/<subset>.json`` + ``images/<subset>/``)."""
