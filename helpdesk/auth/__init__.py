"""Sign-in, sign-out and account security."""
