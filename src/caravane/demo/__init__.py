"""The demo: a Moroccan network, its staff, patients and a day of care, built from the apps' own actions.

It sits above every app (nothing imports it) and refuses to run in production.
"""
