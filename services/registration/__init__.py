"""Registration service: the holder's sign-up, account lifecycle, login and password reset."""
