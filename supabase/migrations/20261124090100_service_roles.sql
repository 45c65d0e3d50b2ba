-- Least-privilege group roles for the two services. Both are NOLOGIN: each service logs in as its
-- own user that is a member of its group, created outside the migrations because its password is
-- a secret, e.g.
--   CREATE ROLE api_login LOGIN PASSWORD '...' IN ROLE app_api;
-- Members inherit the group's privileges (INHERIT is the default), and have no others.
--
-- Roles belong to the whole server, while the ledger belongs to one database: the roles may exist
-- already (another database on the same server, a restored copy). So each is created only when
-- missing, and an existing one is put back to NOLOGIN without CREATEDB or CREATEROLE. Both need only
-- CREATEROLE, which Supabase's postgres user has. The exception handler covers two databases of one
-- server migrated at the same moment: the second CREATE ROLE then finds the first one's role.
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['app_api', 'app_worker'] LOOP
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
      EXECUTE format('ALTER ROLE %I NOLOGIN NOCREATEDB NOCREATEROLE', role_name);
    ELSE
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        EXECUTE format('ALTER ROLE %I NOLOGIN NOCREATEDB NOCREATEROLE', role_name);
      END;
    END IF;
  END LOOP;
END
$$;

-- Both services may use what is in `app` and nothing else. USAGE only, never CREATE, here or on
-- any other schema: the schema's objects are made by migrations, not by the running services.
GRANT USAGE ON SCHEMA app TO app_api, app_worker;

-- Tables that later migrations create in `app` get these grants automatically. Default privileges
-- cover objects created by the role that ran this statement, which is the role that runs every
-- migration; a table created by any other role gets no grants and needs its own GRANT.
--
-- The api reads and writes rows; no TRUNCATE, REFERENCES or TRIGGER. Identity columns
-- (GENERATED ... AS IDENTITY) need no sequence privilege to insert, so the api gets none.
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_api;

-- The worker gets the same row access: it claims jobs with SELECT ... FOR UPDATE SKIP LOCKED (which
-- needs UPDATE), completes them with UPDATE and purges them with DELETE, never TRUNCATE. What a job
-- queue table adds is its id sequence: queue tables commonly use bigserial ids, and the worker
-- enqueues retries and follow-up jobs, so it may call nextval/currval on the schema's sequences
-- (USAGE). It gets no UPDATE on them, so it cannot setval and move another table's ids.
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO app_worker;

-- PostgreSQL 15 no longer lets everyone create in `public`, but databases made by older versions,
-- or restored from their dumps, still do, and every role has what PUBLIC has.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
