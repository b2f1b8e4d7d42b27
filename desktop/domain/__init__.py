"""Plain-Python domain logic (no Qt): profiles, directory and matching, mentorship, messages, library, schedule."""
