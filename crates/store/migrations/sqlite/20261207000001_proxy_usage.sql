-- Bytes that went through a session's or browser's upstream proxy (api: `proxyUsedMb`, and
-- the proxy cost from the configured price per GB); 0 for a browser without a proxy.

ALTER TABLE sessions ADD COLUMN proxy_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE browsers ADD COLUMN proxy_bytes INTEGER NOT NULL DEFAULT 0;
