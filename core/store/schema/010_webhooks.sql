-- Webhooks (serve/webhook): how far each webhook{} of tandem.lua has read the event log.
-- A hook seen for the first time starts at the newest event (no replay of history); its
-- deliveries are outbox rows of channel 'webhook', keyed "webhook:NAME:EVENT_ID".
CREATE TABLE webhook_cursors (
  name        TEXT PRIMARY KEY,
  last_event  INTEGER NOT NULL,
  updated_at  TEXT NOT NULL
);
