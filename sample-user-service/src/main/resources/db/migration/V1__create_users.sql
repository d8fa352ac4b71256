-- Users of the sample user service. Flyway applies this once per database, at start-up.
CREATE TABLE users (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    create_time timestamptz NOT NULL
);

-- Emails are unique ignoring case, enforced by the database: of two concurrent inserts with one
-- email, exactly one commits and the other fails with unique_violation (23505).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
