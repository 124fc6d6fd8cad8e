// Jest global setup of the e2e project: the dashboard's script is built from
// its TypeScript sources, as `npm run build` does, so the browser tests run
// the code in this checkout.
module.exports = async () => {
  require('../../libs/reporting/src/dashboard/build-web').buildDashboard();
};
