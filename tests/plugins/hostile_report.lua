-- Fixture: a report that tries to write through its query helper (what it tries is
-- chosen by ctx.program.name's suffix in the e2e test; by default an INSERT).
return tandem.report{
  name = "hostile-report", version = "1.0.0", api = 1,
  build = function(metrics, q, ctx)
    local sql = {
      insert = "INSERT INTO people (external_id, name, email, timezone) VALUES ('X', 'X', 'x@x', 'UTC')",
      attach = "ATTACH DATABASE '/tmp/tandem-hostile.db' AS h",
      pragma = "PRAGMA user_version = 99",
      temp = "CREATE TEMP TABLE t (x)",
      bomb = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
      huge = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000) SELECT x FROM c",
    }
    local which = HOSTILE_KIND or "insert"
    q.rows(sql[which])
    return { title = "should not get here", sections = {} }
  end,
}
