"""The committee's files: spreadsheets in (the roll) and out (the roll, invitation sheets)."""
