CREATE TABLE IF NOT EXISTS default.events
(
    id Int64,
    kind Enum8('VIEW' = 1, 'CLICK' = 2, 'PURCHASE' = 3),
    at DateTime,
    user Nullable(String),
    path String,
    duration_ms UInt32,
    tags Array(String)
)
ENGINE = MergeTree
ORDER BY (at, id)
