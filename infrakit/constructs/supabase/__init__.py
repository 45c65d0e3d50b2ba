"""Supabase backends: hosted Postgres, with the Supabase API in front of it."""
