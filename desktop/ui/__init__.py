"""Qt widgets only: windows, views, models, dialogs. No SQL, crypto or HTTP here."""
