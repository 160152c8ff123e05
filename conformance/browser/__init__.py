"""Driving Chromium and reading what it held: contexts and budgets, cookies, web storage, trust."""
