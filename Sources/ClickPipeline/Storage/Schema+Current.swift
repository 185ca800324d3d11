extension Schema {
  /// The schema of version ``version``, as a new database gets it: frozen, so a new database
  /// does not replay version 1 and every migration. The migrations (``steps``) bring an older
  /// database to the same tables, columns and indexes; `SchemaMigrationTests` checks that a
  /// version-2 database, migrated step by step, has exactly this schema. A change of schema
  /// edits this text and adds a step. Columns added by a step (`ALTER TABLE … ADD COLUMN`)
  /// come last here too, as they do in a migrated table.
  static let current = """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE runs(
      run_id INTEGER PRIMARY KEY,
      command TEXT NOT NULL,
      arguments TEXT NOT NULL DEFAULT '',
      started_at TEXT NOT NULL,
      ended_at TEXT NOT NULL,
      exit_status INTEGER NOT NULL,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      files_ingested INTEGER NOT NULL DEFAULT 0,
      files_failed INTEGER NOT NULL DEFAULT 0,
      files_skipped INTEGER NOT NULL DEFAULT 0,
      lines_read INTEGER NOT NULL DEFAULT 0,
      events_kept INTEGER NOT NULL DEFAULT 0,
      rejected INTEGER NOT NULL DEFAULT 0,
      duplicates INTEGER NOT NULL DEFAULT 0,
      message TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE rejects(
      file_id INTEGER NOT NULL,
      run_id INTEGER NOT NULL,
      path TEXT NOT NULL,
      line INTEGER NOT NULL,
      reason TEXT NOT NULL,
      raw NOT NULL
    );
    CREATE INDEX rejects_by_file ON rejects(file_id, line);
    CREATE TABLE conversions(
      conversion_row INTEGER PRIMARY KEY, event_id TEXT NOT NULL, ts INTEGER NOT NULL,
      viewer_id TEXT NOT NULL, product_id TEXT NOT NULL, platform TEXT NOT NULL,
      store TEXT NOT NULL, order_id TEXT NOT NULL, click_id TEXT NOT NULL,
      quantity INTEGER NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
      refunded INTEGER NOT NULL, file_id INTEGER NOT NULL, line INTEGER NOT NULL,
      event_key INTEGER NOT NULL DEFAULT 0, order_key INTEGER NOT NULL DEFAULT 0, click_key INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversions_by_ts ON conversions(ts);
    CREATE TABLE dirty_hours(hour INTEGER PRIMARY KEY, click_platforms INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE pending_click_refs(click_id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE daily_metrics(
      day TEXT NOT NULL,
      creator_id TEXT NOT NULL,
      placement TEXT NOT NULL,
      platform TEXT NOT NULL,
      store TEXT NOT NULL,
      product_id TEXT NOT NULL,
      \(MetricsRow.columnNames.map { "\($0) INTEGER NOT NULL," }.joined(separator: "\n  "))
      PRIMARY KEY (day, creator_id, placement, platform, store, product_id)
    ) WITHOUT ROWID;
    CREATE VIEW creator_earnings AS
      SELECT day, creator_id, sum(views) AS views, sum(clicks) AS clicks, sum(orders) AS orders,
        sum(units) AS units, sum(revenue_cents) AS revenue_cents, sum(commission_cents) AS commission_cents,
        sum(refunds) AS refunds, sum(refunded_cents) AS refunded_cents,
        sum(reversed_commission_cents) AS reversed_commission_cents,
        sum(commission_cents) - sum(reversed_commission_cents) AS net_commission_cents
      FROM daily_metrics WHERE creator_id <> '' GROUP BY day, creator_id;
    CREATE VIEW product_funnel AS
      SELECT day, platform, store, product_id, sum(views) AS views, sum(clicks) AS clicks,
        sum(orders) AS orders, sum(units) AS units, sum(revenue_cents) AS revenue_cents,
        sum(commission_cents) AS commission_cents, sum(refunds) AS refunds,
        sum(refunded_cents) AS refunded_cents
      FROM daily_metrics WHERE product_id <> '' GROUP BY day, platform, store, product_id;
    CREATE VIEW platform_summary AS
      SELECT day, platform, store, placement, sum(views) AS views, sum(bot_views) AS bot_views,
        sum(clicks) AS clicks, sum(bot_clicks) AS bot_clicks, sum(orders) AS orders,
        sum(revenue_cents) AS revenue_cents, sum(commission_cents) AS commission_cents,
        sum(refunded_cents) AS refunded_cents, sum(reversed_commission_cents) AS reversed_commission_cents
      FROM daily_metrics GROUP BY day, platform, store, placement;
    CREATE TABLE orders(
      day TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('ordered', 'refund')),
      platform TEXT NOT NULL, store TEXT NOT NULL, order_id TEXT NOT NULL, product_id TEXT NOT NULL,
      quantity INTEGER NOT NULL, revenue_cents INTEGER NOT NULL, commission_cents INTEGER NOT NULL,
      refunded_cents INTEGER NOT NULL, reversed_commission_cents INTEGER NOT NULL,
      creator_id TEXT NOT NULL, placement TEXT NOT NULL, click_event_id TEXT NOT NULL,
      rule TEXT NOT NULL CHECK (rule IN ('click_id', 'viewer window', 'bot click', 'none')),
      post_id TEXT NOT NULL DEFAULT '', currency TEXT NOT NULL DEFAULT '', amount TEXT NOT NULL DEFAULT '',
      fx_usd_per_unit TEXT NOT NULL DEFAULT '', commission_rate TEXT NOT NULL DEFAULT '', ts INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (day, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX orders_by_creator ON orders(creator_id, day) WHERE creator_id <> '';
    CREATE TABLE click_index(key INTEGER NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID;
    CREATE TABLE segments(
      segment_id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (0, 1)), day INTEGER NOT NULL,
      file_id INTEGER NOT NULL, rows INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
      data BLOB NOT NULL
    );
    CREATE INDEX segments_by_day ON segments(day, kind);
    CREATE INDEX segments_by_file ON segments(file_id);
    CREATE TABLE segment_ids(segment_id INTEGER PRIMARY KEY, ids BLOB NOT NULL);
    CREATE TABLE segment_dropped(segment_id INTEGER PRIMARY KEY, rows BLOB NOT NULL);
    CREATE INDEX conversions_by_event ON conversions(event_key);
    CREATE INDEX conversions_by_order ON conversions(order_key);
    CREATE INDEX conversions_by_click ON conversions(click_key, ts) WHERE click_key <> 0;
    CREATE TABLE over_refunds(
      platform TEXT NOT NULL, order_id TEXT NOT NULL, ordered TEXT NOT NULL, refunded TEXT NOT NULL,
      PRIMARY KEY (platform, order_id)
    ) WITHOUT ROWID;
    CREATE TABLE files(
      file_id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL,
      path TEXT NOT NULL,
      content_hash TEXT NOT NULL,
      size INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('ingested', 'failed', 'forgotten', 'refused')),
      format TEXT NOT NULL DEFAULT '',
      error TEXT NOT NULL DEFAULT '',
      lines INTEGER NOT NULL DEFAULT 0,
      events INTEGER NOT NULL DEFAULT 0,
      rejected INTEGER NOT NULL DEFAULT 0,
      duplicates INTEGER NOT NULL DEFAULT 0,
      recorded_at TEXT NOT NULL,
      held_back_line INTEGER NOT NULL DEFAULT 0,
      future_events INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX files_ingested_content ON files(content_hash) WHERE status = 'ingested';
    CREATE TABLE closed_months(
      month TEXT PRIMARY KEY, closed_at TEXT NOT NULL, time_zone TEXT NOT NULL, threshold_cents INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE ledger_months(
      creator_id TEXT NOT NULL, month TEXT NOT NULL, opening_cents INTEGER NOT NULL, net_cents INTEGER NOT NULL,
      adjustment_cents INTEGER NOT NULL, payable_cents INTEGER NOT NULL, closing_cents INTEGER NOT NULL,
      PRIMARY KEY (creator_id, month)
    ) WITHOUT ROWID;
    CREATE TABLE ledger_adjustments(
      creator_id TEXT NOT NULL, month TEXT NOT NULL, source_month TEXT NOT NULL, cents INTEGER NOT NULL,
      orders TEXT NOT NULL, PRIMARY KEY (creator_id, month, source_month)
    ) WITHOUT ROWID;
    CREATE TABLE ledger_orders(
      month TEXT NOT NULL, event_id TEXT NOT NULL, order_id TEXT NOT NULL, creator_id TEXT NOT NULL,
      net_cents INTEGER NOT NULL, PRIMARY KEY (creator_id, month, event_id)
    ) WITHOUT ROWID;
    """
}
