-- Fixture: a report document from the metrics, a query and the ctx.
return tandem.report{
  name = "counts", version = "1.0.0", api = 1, title = "Counts",
  build = function(metrics, q, ctx)
    local people = q.one("SELECT count(*) AS n FROM people")
    return {
      title = "Counts for " .. ctx.program.name,
      sections = {
        { heading = "Funnel", text = "Enrolled " .. metrics.funnel.enrolled,
          table = { columns = { "enrolled", "matched", "people" },
                    rows = { { metrics.funnel.enrolled, metrics.funnel.matched,
                               people and people.n or 0 } } } },
      },
    }
  end,
}
