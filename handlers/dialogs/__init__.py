"""The dialog engine every feature's dialogs run on: steps as data, state in the database."""
