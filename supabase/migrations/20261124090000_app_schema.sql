-- The product's own schema. Its tables live here rather than in `public`: Supabase exposes `public`
-- through its REST API to the anon and authenticated roles, while nobody but the owner can reach
-- `app` until 20261124090100_service_roles.sql grants the services their share.
--
-- The owner is the user that runs the migrations (on Supabase: postgres). That user also creates
-- every later table here, and the default privileges in service_roles apply to exactly its tables.
CREATE SCHEMA app AUTHORIZATION CURRENT_USER;

COMMENT ON SCHEMA app IS 'The product''s tables. Changed only by supabase/migrations.';
