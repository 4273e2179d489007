-- A client's Idempotency-Key for one write (the hazard report form's hidden
-- submission key, or the header on the JSON API) and what that write
-- produced. A request repeated with the same key by the same user returns the
-- recorded result instead of writing again: the Back button, a phone
-- network's retry and an offline draft re-sent when the network returns all
-- land here. The row is inserted in the transaction that makes the result,
-- so either both exist or neither. `request_hash` is the SHA-256 of the
-- request's meaning, so a key reused for a different request is refused.
-- Rows expire after a day and are deleted lazily by later keyed writes.
CREATE TABLE idempotency_key (
    user_id BLOB NOT NULL REFERENCES app_user (id),
    idem_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result_kind TEXT NOT NULL,
    result_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_key_expiry ON idempotency_key (expires_at);
