"""One module per main-window view (Home, Mentors, Library, Settings, and the views later releases fill)."""
