PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('aggregate_fingerprint',replace('clickpipeline-config-v2\ntimezone "UTC"\nattribution.amazon_window_hours 24\nattribution.brand_store_window_hours 168\nbots.user_agent_patterns ["bot", "crawler", "curl/", "headless", "httpclient", "python-requests", "slurp", "spider", "wget/"]\ncommission.amazon 0.04\ncommission.brand_store 0.1\ncommission.amazon_categories."beauty" 0.1\ncommission.amazon_categories."books" 0.045\ncommission.brand_stores."lumi-skin" 0.15\nfx_usd_per_unit.EUR 1.08\nfx_usd_per_unit.GBP 1.27\nfx_usd_per_unit.IDR 0.000063\nfx_usd_per_unit.JPY 0.0067\nfx_usd_per_unit.MYR 0.21\nfx_usd_per_unit.SGD 0.74\nfx_usd_per_unit.USD 1\ncatalog-categories 7c78381ea5b76db4\n','\n',char(10)));
INSERT INTO meta VALUES('schema_version','6');
INSERT INTO meta VALUES('settings_catalog_csv',replace('product_id,platform,store,title,category\nB0AMZBEAU1,amazon,,Glow Serum 30 ml,beauty\nB0AMZBEAU2,amazon,,Matte Lipstick Trio,beauty\nB0AMZBOOK1,amazon,,Data Pipelines | A Field Guide,books\nB0AMZBOOK2,amazon,,The *Lost* Recipes,books\nB0AMZHOME1,amazon,,"Linen Throw Pillow, Sand",home\nB0AMZHOME2,amazon,,Bamboo Cutting Board,home\nLS-100,brand_store,lumi-skin,Vitamin C Day Cream,beauty\nLS-200,brand_store,lumi-skin,Overnight Repair Mask,beauty\nOA-7,brand_store,oak-and-ash,Walnut Desk Organizer,home\nOA-9,brand_store,oak-and-ash,Ash Table Lamp,home\n','\n',char(10)));
INSERT INTO meta VALUES('settings_toml',replace('# ClickPipeline settings, as stored in the database\ntimezone = "UTC"\n\n[attribution]\namazon_window_hours = 24\nbrand_store_window_hours = 168\n\n[bots]\nuser_agent_patterns = ["bot", "crawler", "curl/", "headless", "httpclient", "python-requests", "slurp", "spider", "wget/"]\n\n[commission]\namazon = 0.04\nbrand_store = 0.1\n\n[commission.amazon_categories]\n"beauty" = 0.1\n"books" = 0.045\n\n[commission.brand_stores]\n"lumi-skin" = 0.15\n\n[fx_usd_per_unit]\nEUR = 1.08\nGBP = 1.27\nIDR = 0.000063\nJPY = 0.0067\nMYR = 0.21\nSGD = 0.74\nUSD = 1\n\n[payout]\nthreshold_cents = 1000\n','\n',char(10)));
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
INSERT INTO runs VALUES(1,'ingest','/tmp/v6tree/.build/release/ingest --db /tmp/v6.sqlite --config /work/main/sample-data/clickpipeline.toml /work/main/sample-data/logs/2026-11-01','2026-12-07T06:33:20Z','2026-12-07T06:33:20Z',0,'vm',18754,5,0,0,45,32,8,4,'');
INSERT INTO runs VALUES(2,'ingest','/tmp/v6tree/.build/release/ingest --db /tmp/v6.sqlite --config /work/main/sample-data/clickpipeline.toml /work/main/sample-data/logs','2026-12-07T06:33:20Z','2026-12-07T06:33:20Z',0,'vm',18757,5,0,6,25,21,3,0,'');
INSERT INTO runs VALUES(3,'aggregate','/tmp/v6tree/.build/release/aggregate --db /tmp/v6.sqlite','2026-12-07T06:33:20Z','2026-12-07T06:33:20Z',0,'vm',18760,0,0,0,0,0,0,0,'full rebuild: 2 day(s) recomputed, 27 row(s) written');
CREATE TABLE files(
  file_id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ingested', 'failed', 'forgotten')),
  format TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  lines INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  recorded_at TEXT NOT NULL
, held_back_line INTEGER NOT NULL DEFAULT 0);
INSERT INTO files VALUES(1,1,'/work/main/sample-data/logs/2026-11-01/amazon-postbacks.ndjson.gz','0c98704fd8b3fa887646eceed0bdc30d',267,'ingested','ndjson','',4,3,1,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(2,1,'/work/main/sample-data/logs/2026-11-01/clicks.ndjson.gz','efb7ee18bc5224c438ebdf3a9fd7bed1',1062,'ingested','ndjson','',11,9,2,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(3,1,'/work/main/sample-data/logs/2026-11-01/tracker-export.csv','f2c7db7d14c2bd6b713f0f9c9bd95123',1075,'ingested','csv','',7,4,2,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(4,1,'/work/main/sample-data/logs/2026-11-01/views.ndjson.gz','7f0e82c35925dd4bf238b7c325e1a0ce',812,'ingested','ndjson','',17,14,3,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(5,1,'/work/main/sample-data/logs/2026-11-01/views.redelivered.ndjson.gz','41b6ff86f7975c93abe7f006df2bed0e',502,'ingested','ndjson','',6,2,0,4,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(11,2,'/work/main/sample-data/logs/2026-11-02/events.ndjson.gz','747e27f2ce80d3ae5b8ca3cfdaee0e8c',672,'ingested','ndjson','',12,10,2,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(12,2,'/work/main/sample-data/logs/2026-11-02/late-clicks-2026-11-01.ndjson.gz','ae333a1cc845531cac8e67a6824836b5',377,'ingested','ndjson','',2,2,0,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(13,2,'/work/main/sample-data/logs/2026-11-02/orders-export.csv.gz','f8d196f27faf20161a4a26befcc7e202',264,'ingested','csv','',4,3,0,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(14,2,'/work/main/sample-data/logs/2026-11-02/views-oversized.ndjson.gz','46aed30223ee28c479f70b96e38bf451',1563,'ingested','ndjson','',3,2,1,0,'2026-12-07T06:33:20Z',0);
INSERT INTO files VALUES(15,2,'/work/main/sample-data/logs/2026-11-02/views.ndjson.gz','93f3db87b26156bc2288ae10324d4234',476,'ingested','ndjson','',4,4,0,0,'2026-12-07T06:33:20Z',0);
CREATE TABLE rejects(
  file_id INTEGER NOT NULL,
  run_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw NOT NULL
);
INSERT INTO rejects VALUES(1,1,'/work/main/sample-data/logs/2026-11-01/amazon-postbacks.ndjson.gz',4,'bad_value:amount','{"type":"conversion","event_id":"ev-c-0004","ts":"2026-11-01T22:00:00Z","order_id":"112-4410001-0000003","viewer_id":"v-2003","product_id":"B0AMZBOOK1","platform":"amazon","amount":"-5.00"}');
INSERT INTO rejects VALUES(2,1,'/work/main/sample-data/logs/2026-11-01/clicks.ndjson.gz',4,'bad_value:type','{"type":"impression","event_id":"ev-k-0004","ts":"2026-11-01T09:10:00Z","creator_id":"kenji_reads","placement":"bio","viewer_id":"v-2003","product_id":"B0AMZBOOK1","platform":"amazon","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15"}');
INSERT INTO rejects VALUES(2,1,'/work/main/sample-data/logs/2026-11-01/clicks.ndjson.gz',9,'missing_field:store','{"type":"click","event_id":"ev-k-0009","ts":"2026-11-01T14:30:00Z","creator_id":"casa_lena","post_id":"p-777","viewer_id":"v-4006","product_id":"OA-9","platform":"brand_store","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ShortVideo/41.2.0"}');
INSERT INTO rejects VALUES(3,1,'/work/main/sample-data/logs/2026-11-01/tracker-export.csv',6,'malformed','conversion,ev-c-0403,2026-11-01T20:00:00Z,,,,v-1009,LS-100,brand_store,lumi-skin,,LS-50009,,1,30.00,USD,ordered');
INSERT INTO rejects VALUES(3,1,'/work/main/sample-data/logs/2026-11-01/tracker-export.csv',7,'bad_value:currency','conversion,ev-c-0404,2026-11-01T20:30:00Z,,,,v-2011,B0AMZBOOK2,amazon,,,112-4410001-0000004,,1,12.00,XXX,ordered,');
INSERT INTO rejects VALUES(4,1,'/work/main/sample-data/logs/2026-11-01/views.ndjson.gz',10,'malformed','{"type":"view","event_id":"ev-v-0010","ts":"2026-11-01T12:00:00Z","creator_id":"kenji_reads","placement":"bio"');
INSERT INTO rejects VALUES(4,1,'/work/main/sample-data/logs/2026-11-01/views.ndjson.gz',11,'missing_field:event_id','{"type":"view","ts":"2026-11-01T12:01:00Z","creator_id":"kenji_reads","placement":"bio","viewer_id":"v-2009","user_agent":"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36"}');
INSERT INTO rejects VALUES(4,1,'/work/main/sample-data/logs/2026-11-01/views.ndjson.gz',14,'malformed',X'7b2274797065223a2276696577222c226576656e745f6964223a2265762d762d30303134222c227473223a22323032362d31312d30315431323a33303a30305a222c2263726561746f725f6964223a226b656e6a695f7265616473222c22706c6163656d656e74223a2262696f222c227669657765725f6964223a22762d32303035222c22757365725f6167656e74223a224d6f7a696c6c612f352e3020284c696e75783b20416e64726f69642031342920c328227d');
INSERT INTO rejects VALUES(11,2,'/work/main/sample-data/logs/2026-11-02/events.ndjson.gz',8,'missing_field:ts','{"type":"view","event_id":"ev-v-0208","creator_id":"maya_glow","placement":"bio","viewer_id":"v-1010","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ShortVideo/41.2.0"}');
INSERT INTO rejects VALUES(11,2,'/work/main/sample-data/logs/2026-11-02/events.ndjson.gz',9,'bad_value:ts','{"type":"click","event_id":"ev-k-0209","ts":"2026-11-31T10:00:00Z","creator_id":"maya_glow","post_id":"p-502","viewer_id":"v-1010","product_id":"LS-100","platform":"brand_store","store":"lumi-skin","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ShortVideo/41.2.0"}');
INSERT INTO rejects VALUES(14,2,'/work/main/sample-data/logs/2026-11-02/views-oversized.ndjson.gz',2,'line_too_long','{"type":"view","event_id":"ev-v-0402","ts":"2026-11-02T14:01:00Z","creator_id":"casa_lena","placement":"bio","viewer_id":"v-4099","user_agent":"Mozilla/5.0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
CREATE TABLE conversions(
  conversion_row INTEGER PRIMARY KEY, event_id TEXT NOT NULL, ts INTEGER NOT NULL,
  viewer_id TEXT NOT NULL, product_id TEXT NOT NULL, platform TEXT NOT NULL,
  store TEXT NOT NULL, order_id TEXT NOT NULL, click_id TEXT NOT NULL,
  quantity INTEGER NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
  refunded INTEGER NOT NULL, file_id INTEGER NOT NULL, line INTEGER NOT NULL
);
INSERT INTO conversions VALUES(1,'ev-c-0001',1793529730000,'v-1001','B0AMZBEAU1','amazon','','112-4410001-0000001','ev-k-0001',1,'19.99','USD',0,1,1);
INSERT INTO conversions VALUES(2,'ev-c-0002',1793529730000,'v-1001','B0AMZBEAU1','amazon','','112-4410001-0000001','ev-k-0001',1,'19.99','USD',0,1,2);
INSERT INTO conversions VALUES(3,'ev-c-0003',1793566800000,'v-2002','B0AMZBOOK1','amazon','','112-4410001-0000002','',2,'24.5','USD',0,1,3);
INSERT INTO conversions VALUES(4,'ev-c-0401',1793556000000,'v-4004','OA-7','brand_store','oak-and-ash','OA-10001','ev-k-0007',1,'24.45','USD',0,3,4);
INSERT INTO conversions VALUES(5,'ev-c-0402',1793561400000,'v-1008','LS-200','brand_store','lumi-skin','LS-50001','',1,'58','USD',0,3,5);
INSERT INTO conversions VALUES(6,'ev-c-0701',1793614500000,'v-1007','LS-100','brand_store','lumi-skin','880001','',1,'42','EUR',0,11,4);
INSERT INTO conversions VALUES(7,'ev-c-0801',1793588400000,'v-1006','LS-200','brand_store','lumi-skin','LS-50002','9100011',1,'135000','IDR',0,11,5);
INSERT INTO conversions VALUES(8,'ev-c-0501',1793606400000,'555003','B0AMZHOME2','amazon','','112-4410001-0000005','',1,'12','USD',0,11,6);
INSERT INTO conversions VALUES(9,'ev-c-0601',1793602800001,'v-3003','B0AMZHOME1','amazon','','112-4410001-0000006','',1,'35','USD',0,11,7);
INSERT INTO conversions VALUES(10,'ev-c-0901',1793610000000,'v-2010','B0AMZBOOK2','amazon','','112-4410001-0000009','ev-k-missing',1,'15.99','USD',0,11,10);
INSERT INTO conversions VALUES(11,'ev-c-1001',1793613600000,'','B0NOTINCAT','amazon','','112-4410001-0000010','',1,'10','USD',0,11,11);
INSERT INTO conversions VALUES(12,'ev-r-0001',1793635200000,'','B0AMZBOOK1','amazon','','112-4410001-0000002','',1,'24.5','USD',1,13,2);
INSERT INTO conversions VALUES(13,'ev-c-1101',1793638800000,'v-4006','OA-9','brand_store','oak-and-ash','OA-10002','',3,'89.97','GBP',0,13,3);
INSERT INTO conversions VALUES(14,'ev-r-0002',1793642400000,'','OA-7','brand_store','oak-and-ash','OA-09999','',1,'10','USD',1,13,4);
CREATE TABLE dirty_hours(hour INTEGER PRIMARY KEY, click_platforms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE pending_click_refs(click_id TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO pending_click_refs VALUES('ev-k-missing');
CREATE TABLE daily_metrics(
  day TEXT NOT NULL,
  creator_id TEXT NOT NULL,
  placement TEXT NOT NULL,
  platform TEXT NOT NULL,
  store TEXT NOT NULL,
  product_id TEXT NOT NULL,
  views INTEGER NOT NULL,
      unique_viewers INTEGER NOT NULL,
      bot_views INTEGER NOT NULL,
      clicks INTEGER NOT NULL,
      unique_clickers INTEGER NOT NULL,
      bot_clicks INTEGER NOT NULL,
      orders INTEGER NOT NULL,
      units INTEGER NOT NULL,
      revenue_cents INTEGER NOT NULL,
      commission_cents INTEGER NOT NULL,
      refunds INTEGER NOT NULL,
      refunded_cents INTEGER NOT NULL,
      reversed_commission_cents INTEGER NOT NULL,
  PRIMARY KEY (day, creator_id, placement, platform, store, product_id)
) WITHOUT ROWID;
INSERT INTO daily_metrics VALUES('2026-11-01','','','brand_store','oak-and-ash','OA-7',0,0,0,0,0,0,1,1,2445,244,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','101','bio','amazon','','B0AMZBOOK1',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','101','post','amazon','','B0AMZHOME1',2,2,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','101','post','amazon','','B0AMZHOME2',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','casa_lena','bio','','','',1,1,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','casa_lena','bio','amazon','','B0AMZHOME1',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','casa_lena','post','brand_store','lumi-skin','LS-200',0,0,0,1,1,0,1,1,5800,870,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','casa_lena','post','brand_store','oak-and-ash','OA-7',2,2,0,1,1,1,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','kenji_reads','bio','amazon','','B0AMZBOOK1',3,2,0,1,1,0,1,2,2450,110,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','kenji_reads','post','amazon','','B0AMZBOOK2',0,0,0,2,2,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','maya_glow','bio','','','',2,2,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','maya_glow','bio','brand_store','lumi-skin','LS-200',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','maya_glow','post','amazon','','B0AMZBEAU1',4,2,1,2,2,0,1,1,1999,200,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-01','maya_glow','post','brand_store','lumi-skin','LS-100',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','','','amazon','','B0AMZHOME1',0,0,0,0,0,0,1,1,3500,140,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','','','amazon','','B0NOTINCAT',0,0,0,0,0,0,1,1,1000,40,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','','','brand_store','oak-and-ash','OA-7',0,0,0,0,0,0,0,0,0,0,1,1000,100);
INSERT INTO daily_metrics VALUES('2026-11-02','','','brand_store','oak-and-ash','OA-9',0,0,0,0,0,0,1,3,11426,1143,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','101','bio','','','',1,1,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','101','post','amazon','','B0AMZHOME2',0,0,0,0,0,0,1,1,1200,48,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','casa_lena','bio','','','',2,2,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','casa_lena','post','brand_store','oak-and-ash','OA-7',1,1,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','kenji_reads','bio','amazon','','B0AMZBOOK1',2,2,0,0,0,0,0,0,0,0,1,2450,110);
INSERT INTO daily_metrics VALUES('2026-11-02','kenji_reads','bio','brand_store','lumi-skin','LS-100',0,0,0,1,1,0,0,0,0,0,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','kenji_reads','post','amazon','','B0AMZBOOK2',1,1,0,0,0,0,1,1,1599,72,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','maya_glow','bio','brand_store','lumi-skin','LS-200',0,0,0,0,0,0,1,1,850,128,0,0,0);
INSERT INTO daily_metrics VALUES('2026-11-02','maya_glow','post','brand_store','lumi-skin','LS-100',1,1,1,1,1,0,1,1,4536,680,0,0,0);
CREATE TABLE orders(
  day TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('ordered', 'refund')),
  platform TEXT NOT NULL, store TEXT NOT NULL, order_id TEXT NOT NULL, product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL, revenue_cents INTEGER NOT NULL, commission_cents INTEGER NOT NULL,
  refunded_cents INTEGER NOT NULL, reversed_commission_cents INTEGER NOT NULL,
  creator_id TEXT NOT NULL, placement TEXT NOT NULL, click_event_id TEXT NOT NULL,
  rule TEXT NOT NULL CHECK (rule IN ('click_id', 'viewer window', 'bot click', 'none')),
  PRIMARY KEY (day, event_id)
) WITHOUT ROWID;
INSERT INTO orders VALUES('2026-11-01','ev-c-0001','ordered','amazon','','112-4410001-0000001','B0AMZBEAU1',1,1999,200,0,0,'maya_glow','post','ev-k-0001','click_id');
INSERT INTO orders VALUES('2026-11-01','ev-c-0003','ordered','amazon','','112-4410001-0000002','B0AMZBOOK1',2,2450,110,0,0,'kenji_reads','bio','ev-k-0003','viewer window');
INSERT INTO orders VALUES('2026-11-01','ev-c-0401','ordered','brand_store','oak-and-ash','OA-10001','OA-7',1,2445,244,0,0,'','','ev-k-0007','bot click');
INSERT INTO orders VALUES('2026-11-01','ev-c-0402','ordered','brand_store','lumi-skin','LS-50001','LS-200',1,5800,870,0,0,'casa_lena','post','ev-k-0102','viewer window');
INSERT INTO orders VALUES('2026-11-02','ev-c-0501','ordered','amazon','','112-4410001-0000005','B0AMZHOME2',1,1200,48,0,0,'101','post','ev-k-0005','viewer window');
INSERT INTO orders VALUES('2026-11-02','ev-c-0601','ordered','amazon','','112-4410001-0000006','B0AMZHOME1',1,3500,140,0,0,'','','','none');
INSERT INTO orders VALUES('2026-11-02','ev-c-0701','ordered','brand_store','lumi-skin','880001','LS-100',1,4536,680,0,0,'maya_glow','post','ev-k-9','viewer window');
INSERT INTO orders VALUES('2026-11-02','ev-c-0801','ordered','brand_store','lumi-skin','LS-50002','LS-200',1,850,128,0,0,'maya_glow','bio','9100011','click_id');
INSERT INTO orders VALUES('2026-11-02','ev-c-0901','ordered','amazon','','112-4410001-0000009','B0AMZBOOK2',1,1599,72,0,0,'kenji_reads','post','ev-k-0301','viewer window');
INSERT INTO orders VALUES('2026-11-02','ev-c-1001','ordered','amazon','','112-4410001-0000010','B0NOTINCAT',1,1000,40,0,0,'','','','none');
INSERT INTO orders VALUES('2026-11-02','ev-c-1101','ordered','brand_store','oak-and-ash','OA-10002','OA-9',3,11426,1143,0,0,'','','','none');
INSERT INTO orders VALUES('2026-11-02','ev-r-0001','refund','amazon','','112-4410001-0000002','B0AMZBOOK1',1,0,0,2450,110,'kenji_reads','bio','ev-k-0003','viewer window');
INSERT INTO orders VALUES('2026-11-02','ev-r-0002','refund','brand_store','oak-and-ash','OA-09999','OA-7',1,0,0,1000,100,'','','','none');
CREATE TABLE segments(
  segment_id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (0, 1)), day INTEGER NOT NULL,
  file_id INTEGER NOT NULL, rows INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
  data BLOB NOT NULL
);
INSERT INTO segments VALUES(1,1,20758,2,9,1793516400000,1793548800000,X'28b52ffd645902bd11002662784050899b03309382b3cec2e9026c1a43545535ac531fe66b5fee33d92b768488a5ad6cc93a84ff5b38b4817e0a55d5ccd6f6ce4442628188793c87d980fcee2d656a00670067009f05b94f7b58cf42cc48c6186594316acced507fa4298a5192a448c668bf9b371b5acefb871d7bc10d37f8ae27a4f3c6661d582f224144a67f77ff02fe960a05bbac7777ca4381ee43648aa2480299f011c042c80788840d5208040a022e54e82264d080e123f2da8622d9c5f678300178980e146ce23eb928d0e58e6198e56e5120ebdd9f02cd39e39c73cec8749826778bd232ee4f69990a85d1bc5591692e30349acfc0544c2cc8303e31e7249148240f51f4614f48618f2377a1a53a9fa53c564720a224a59431c6182fa877b87502b7036fe865f2b48335d8f930f4d2c1f1e18c57abfea4d2b7833536a83b8d5a265f817d7533e6744625b487732d0864320417181114fbfa15734ab531067713dcfcf960a88402aa6928c766f47a70a6bf599e6a1a4a333614f4723fdd6d7004f58a553667eca103324a2992524689ecedae6ecd559ee6d48d1a0a85aacac067ef6e00bd7cb5aaadb99b37b4b6a0979b39bcedc7d31caf96af3e8d43f06afc46d9264ff3dddf017ae942bd3fccb119062d03ab51cbbf5e568552bdfaf5d5f534d85150ae5ab9300bcd012420b08229a93b700875ef189d84da44d2738301d2684fdb9e0304651351c6e47f451af2b08087d0fbd8ba438a9c84ed8684d02d59633bc4a2688fa11bfc13b2996572098388e44218853492d1f23f7ec130019cf08185');
INSERT INTO segments VALUES(2,1,20758,3,2,1793552400000,1793552700000,X'28b52ffd6470002d0900a6114233708973fc4effac4e50aaaa3a2d6085472746424d127660f8c9164128265ded8440fffcfceffede294928876855ffaa92852d5335003400340059855a0024334be6f08a6aa74e92f9e3b9e242327bbafaa3c63a84ff0548cbe945a98f023d83212d042624bc881145c548726ebb040a0f8a62a51f93063f64b7a640bc3b7bc72eac3425f410da8ca3e9c4aa0a82567433092192243b756a51a06992982d8ca6591802de66ed581b2ad70fdacdcddaa23e2f4b129974d2cbabefdcd1bbf4e37e9c2fe8ff2cd80399ecc000e3e8c8352517567d2c66f301921ba258a9d0369a4e6b3aa4badfd984cf783dae271027c0bcc27cfac46864a139ad393573cdc49bd3ba11b64b533ebc010900770ca0611f5f98e461c0fc35641f077421a4e994b6e75bf07119c869');
INSERT INTO segments VALUES(3,0,20758,4,13,1793499300000,1793577599999,X'28b52ffd649402dd1200d6a27d44308d9b03a4772c0cece04f44854ca7e215f3521e2e1d18641783ed21049a88cd960c95982d5f570edca6cf71f0e0a763b6ee26222413096e659aab4881bddbffc54d92c8740069006a009b5459745615a51435afc6e277c90b2243178f5f76a0b1e8fd4d5b1cf92e843baa5caa8aa5c1fc6faffdbbbb67301db769efee58092be1ebaa58d4a21694c089040f35a5c3078d0408138f09269785102903502a6c109081c3890a0ca70227278b090a012ea05c224ea18611254e2600fee3d108112c4bc5a2e2a2b06845273539ce9dc34afece61a54dc34adabb775db769effe58e99ad775a12cabaa289d198cd3f98f4e2763c3eb747c0867238381c7f10ccb6299168a49512179b190be98e8eecba414a573e27197e417d27704f52eb9a37b995745cdb93358920124d95337dcd750de634873ea86e481ce206e35fb5cb671288b94e30e3f55c3fd46f7191633b8bd8ab14520cc7100c44bd0f17151bbb76f3bc76465fe00b1022c92489c8ab1a07e3a1574bd8a4559acff69be7e3ab5867834ea06eb1d7af24575db65571473c9f638ca92939a949a5435e9a426c6a80c6d36da203ba233684d2653962120956568a06edc6a59b9c1119dc1bac12298cb4b1a6d905bcd677a6772c422ff613eeeab884bed513721b94b9d41d7cbe36d703f55f3b79b96c158b7be7d86477b0c35309bcd6c9da68a382c20b082b1293b2e6775fb182d097589a4e7068348a31d6d7b1c20209b88644cc657a4210f0b72083d8ecd6bf4f6fe897846bb2151d0fcd2768c64a5458a6dfd068a12b2df8adec0a92084b44490b1334e52886b93933044462e47470edf8ab90a0a93be7ec1');
INSERT INTO segments VALUES(4,0,20759,4,1,1793582100000,1793582100000,X'28b52ffd24c3dd050032cc2d2c506ddb500232cd233363592a4a625a1c311fe410b9b1832249d19fae7efa0cf1419924099d38999db2472753fbdcb97bfd38d28a1651e27608eed02a2feb2318522bea17f82b39b9c0014230400f7eeedcbd7e1c4c429497f869b14818e2d333459c27588a988a90e763b481132a57c5a8a4227c70bbe7c439e5a542ac6da4dba0c998b60e45d184024a7a22d076dbd27a891891695b2505a0ed5511df9ae405fd6aa01d78779335d9071054363432383a9a4b0f0a0100463225ab');
INSERT INTO segments VALUES(5,0,20758,5,2,1793523300000,1793548800000,X'28b52ffd6472004d09001692433560459c03b086204758c3d15195a9c1361876430b953facc1f01321ac01c4b7b72703f89f99daefee9d89e4facd52050bb55e94520637003500350052c6ef862aa746c58cf1da4c8094b17eef61aaa76a3c5c7d10631fbedf2c0426e5ed2d8552f88bc5640c4c8c441d80914400d1f44dab0420abb1c472e6ec05b96fc21210c4672f0d6e7a4dd5f36ce86211a129e3d56d4921d54d49a1423165744b96511ab049532263c61803efd9ccc5986aa7150579d0a65df9f49c0b761576dc8de60df837d663820b86706069f0a3a290ea9a3ed692f985f73a9d093b22ec7d3236a5a85bd37dce2a7cc0db6d1cb1bce0f2e972eaf4ea07036f196b2ae69888f3963127681596fc773bcd5ab03ad48d030800770ca0611f5f98e461c0fc35641f0718859025248a13861633cc');
INSERT INTO segments VALUES(6,0,20759,11,2,1793610000000,1793610300000,X'28b52ffd646100ed080046914032708973fcef3a1f62f55955b8ef40f57b97b690d5468822fd45335320d126a307bc6fc7ff6ef74f4942391495eeb43f2e2253340031003300213b45e6ff6e086e1e8f7e9c80c81c82170410991fae75d82804eda6e8ee1332291125fa69129006302eb80a8b0c8a09c9354d25b67d9b786b996e054da529ef5d4e531d3de555516b6bc4cd3a09297281644ea7448d86c43ca7531aa61199bdfa01a9da050be17739ad27113fb8bc7a5b3937ebc7fd741e81009325582e8ebe5cbabc265685f5c27986b72090413f36ad65ba43b3fe4f0d91314b4aacabaa1f6da05acb6979f5ddfdb80a08bef5d0b7609694585704dbb0c9a84721af629ae2be9912223d52ddf7d408007321a4f1c16bc8c00273083d35f62f938d941b6756c63afd20c2');
INSERT INTO segments VALUES(7,1,20759,11,2,1793611800000,1793611800000,X'28b52ffd24f5250700428e3532706b73fcffffe70b045455f101cafff7aa956dda9a51939a788744556d220d0ca3c7fbb5954e21737842d5bffb498d884c01bb121a809a1255c7dee1eb6a567185d20952474effaa134faaa6710501ccc4b07091b0d45043922488bebf5cfee094e3107802c15586357362d79e725b95e62ac3dc4059f8c0b79a512f610949d1a4f42fea8401770ba4ec48f1c05d293b569807ee6eaf79f13713140277bdab9f6761dbecae08845bfffabcca013c1cb81e36bdb35e6273ada2d2086b5acc4d04e2c836885aa4f080c7796ca6b1c1d191e1744559020300f4d400f9658e5c450c7aa12902');
INSERT INTO segments VALUES(8,1,20758,12,2,1793516400000,1793534400000,X'28b52ffd648a00d5090096d347356035d601304c31b04ae0088e0090d80ffe67ef0b816dcd4c8a8a434543152fd9ff87224e487c23da4e5a713c8ac01017bb155f12193b003a003900d28679142b1d58430ecc9c7aa906d07ce428664cbe1c41623eb2821657aa582def1f2526f5fe2e7d92c646d19c070206743c02070c14e8ccdf34491d08e9c726035e8aa29d5a53c5f872321680331f79b9bfa4a1dc29490341f391ee94b4517e926591080ce211a8603e12bc9f28dd4b0647723e014df9d38a7234a853af7eb2971c7a925ee4cf6215da7e1737020563589828ba515147654de39d70f6c1620c06d28babb1dd5cad1f8cefeee6308f744ad1674cd976d7610cb3b7f5c5f804eb27ebe953cb1b10bd656da9d857aeef2deb6ed024fdb060f6b47bc30aa06e6df1e532160800770ca0611f5f98e461c0fc35641f0778859025248a13d8cecd82');
INSERT INTO segments VALUES(9,0,20759,14,2,1793628000000,1793628300000,X'28b52ffd6453001d0800924f393380b93933303760c10494119914ebbd8e26dc4250131491d68a6888479c76cb1b90b23eb4499224498a3ca40507599b30c896010ea468ac6895f7b30c766b697aa45245c5192775f90df9eb308ac68a56abf16baed6d7e45db9f9ab788fbe340fde8dcc28459f64feca4dc07cb9dbda9a9ca0ba7c7cb99cb5235b285f3010c90e0c208dae1e3dd64949cc8570aff0f87279b463a13749536cd66fb9b87d62796f926e040debebbddc69b7d133566931be9b9c6d201e0752c9e71465188c073a10e6cb0138105aeff1c43a580ae4509fd38c3251e62128e011b0a0e8242a2e26221edf342c090011963139be221df2b0c01c424f8dfdcbe4942befb69844c1030dfc68e8');
INSERT INTO segments VALUES(10,0,20759,15,4,1793606400000,1793624400000,X'28b52ffd645201c50c00269959386049ab03080541d4c78e04004062aa0b1bd8605f2b0569034d087d221862607254edf7e21c3b41faf6646b492bb78e4000257cba225b4a194d0049004c00d5a3e08ca91275119f464619c12f5ff2a538cd9c32c68a6da7d5af56deffdbaaf5b4bb005b0bd42c9a8a9ade298fc228b410044173ced94ca0906170f020232b58c870112440b890713e9b440217a2a19d5a52edba8bc917d800d33453c67fafa2b072b72ccbdfa7289cdca7287c9ee7719a2963238260d34b30ec21c105f107272a148e8c31725f8d365c234bcd8b68bd0c7eda8603f77a5541cdda769792af9efc29353518d4a9532f5989ec719176c8968a15d0d672bb060071151820696806451b9425815742b1076c77b940dac1d19d9db8937e54dfdbcdde8621fd9860800333cae8d4f112cef7f36cc46b0cadfaee2c8809f483fb32886fa55e4e27fa9594ed7623402f73593baa0f60bd643d7d6a390341675857eaf59ae33bc3ba0d4c22fdb038739311002b23806e44420f63cca1ad0476e68ec136ece30b933c0c98bf86ece3809010b2444bfda0d43580082017244a19f9471188');
CREATE TABLE event_keys(day INTEGER PRIMARY KEY, keys INTEGER NOT NULL, data BLOB NOT NULL);
INSERT INTO event_keys VALUES(20758,33,X'28b52ffd64f5007d0d00841821dfb5f4dcecd381ab05d992ebf4c4b295de03bdef9782aaa3daf606b5d19983f4dcb49f0bb5c3d1f8afd3d8c90ab3e480a6a184fd19e6ddaaedb98987bc0de6c397c2c2de92ba06e8b9a7b083fdd64bf9b3f8b7e0dde7bc0185aaac88cc9fb6239f92bce3d59cb98e05e1c7959dd4c9a9e8038b80c487d0f6ad45eff9b5f182d1e2e203afd9a6948cb7f0970199d4f4a1dcef89e304efe2e4bf9488c1c9019395e28187ef87a802bccea3bbc0bf80b604a4d69ae897bca1f102c9849eecad9c86aa0296b7dbf0b6d5ae54b2e6ccdf969cb98401cddde8bc9cbfb48d01c8d282819980b871ea8784c0e8d1908d06bba3929cabf7c4c401d8d6ffcfa9d98270e0b1bbfce88ebbe10bc2baf0b0e1f3b45ddefbbaa3afdafa8b0aeaf8cff3b1a1b40e89800c87808480808080804080801485800181800183a0804085800c8481868180888087800c82800c8c800c88800c84800c83800c81801482808080018b800c828580800c848080808001808084408a800c86800c8380808001888180a080808080804081800c10003c49c33c0e9a8345ac7781f038a4440372c118408e85309cf4406843ed06b22b9381291f9b16aa');
INSERT INTO event_keys VALUES(20759,20,X'28b52ffd6436004d0800840e14beabb6e39c9196b31ff0b4a690e284c7d101cda3dea7c4858d5081d5838ffdc7fd6faae58eb0a3c4b82aaea091a383d38733fec8edf7b090e5f206fcc8cfefc6e4c8a208e5dcebb6cc96ea3391cda3a99ffdfefd018080fcdb98e4c78205acb2d3909eab89a30695d4f688b7d0c8da04a2fda0caf4edf68b0eeae1c0dfa7f6b9800ad5fbd2f5f7a8f00dcba7f2c7b0dfaea703eed9b5fbd5c7a99f07c2adf2bedd8b8feb0fc6f6d784bd998da5078c800181809c40898080800182802886808080018080802487248a288080288180188080108d8080018380288e8080018b80018880018080180d00200f90b5cb303787c3cc002c6635015c3214e996e32a0dbf0812cb8014171d693a');
CREATE TABLE click_index(key INTEGER NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID;
INSERT INTO click_index VALUES(653686270475101240,20758);
INSERT INTO click_index VALUES(2380562177010905134,20759);
INSERT INTO click_index VALUES(2541331833089929044,20759);
INSERT INTO click_index VALUES(2739858671721306258,20758);
INSERT INTO click_index VALUES(3710415502512981880,20758);
INSERT INTO click_index VALUES(4218098350927595078,20758);
INSERT INTO click_index VALUES(4324389162304233535,20758);
INSERT INTO click_index VALUES(4344330990756066628,20758);
INSERT INTO click_index VALUES(4712751934043029091,20758);
INSERT INTO click_index VALUES(4987654362090234436,20758);
INSERT INTO click_index VALUES(6749875291448271431,20758);
INSERT INTO click_index VALUES(6824436342129759609,20758);
INSERT INTO click_index VALUES(7407639891898855800,20758);
INSERT INTO click_index VALUES(8481430205864633517,20758);
INSERT INTO click_index VALUES(9208738262473187979,20758);
CREATE UNIQUE INDEX files_ingested_content ON files(content_hash) WHERE status = 'ingested';
CREATE INDEX rejects_by_file ON rejects(file_id, line);
CREATE INDEX conversions_by_ts ON conversions(ts);
CREATE INDEX conversions_by_order ON conversions(platform, order_id);
CREATE INDEX conversions_by_click ON conversions(click_id) WHERE click_id <> '';
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
CREATE INDEX orders_by_creator ON orders(creator_id, day) WHERE creator_id <> '';
CREATE INDEX segments_by_day ON segments(day, kind);
CREATE INDEX segments_by_file ON segments(file_id);
COMMIT;
