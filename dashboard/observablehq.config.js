// Observable Framework configuration of the customer_analytics dashboard.
// Every page reads JSON written at build time by the loaders in src/data,
// which query PostgreSQL (PG* variables, CA_TARGET); nothing is fetched from
// anywhere else when the site is built or viewed.
export default {
  root: "src",
  output: "build/site",
  title: "Customer analytics",
  pages: [
    {name: "Segments", path: "/"},
    {name: "R × F grid", path: "/rfm-grid"},
    {name: "Lifecycle, tiers, quadrants", path: "/lifecycle"},
    {name: "Segment migration", path: "/migration"},
    {name: "CLV and P(alive)", path: "/clv"},
    {name: "Model calibration", path: "/calibration"}
  ],
  // The default pulls a web font from a font CDN: the pages use local fonts.
  globalStylesheets: [],
  head: '<link rel="icon" href="data:,">',
  style: "style.css",
  search: false,
  pager: false,
  toc: false,
  sidebar: true,
  footer: "customer_analytics · data read from PostgreSQL when the dashboard was built"
};
