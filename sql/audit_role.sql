-- podium_audit: the role audit SQL runs as. It logs in (audit connects as it,
-- so no statement can SET ROLE or SET SESSION AUTHORIZATION back to the user
-- podium connects as) and may read the log and the read models, nothing else:
-- no superuser, no CREATEROLE/CREATEDB/REPLICATION/BYPASSRLS, no membership in
-- pg_read_server_files, pg_execute_server_program, pg_signal_backend or any
-- other role. It has no password: it logs in where pg_hba.conf trusts it (the
-- embedded server does), or with a password an administrator gives it.
--
-- Roles belong to the whole cluster, so migrations of two databases may
-- create it at the same moment: the loser's duplicate is not an error. A
-- migrating user who may not create roles gets a notice, not a failure.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'podium_audit') THEN
        CREATE ROLE podium_audit LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
            NOREPLICATION NOBYPASSRLS;
        -- Defence in depth: even a session that forgot SET TRANSACTION READ ONLY.
        ALTER ROLE podium_audit SET default_transaction_read_only = on;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created meanwhile by another database's migration
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'podium_audit not created: % may not create roles', current_user;
END
$$;
