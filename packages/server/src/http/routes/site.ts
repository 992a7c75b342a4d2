import type { Services } from '../../services/index.js';
import { resolveDashboardDir } from '../static-files.js';
import { registerDashboardMissing, registerDashboardStatic } from '../static.js';
import type { TollgateApp } from '../type-provider.js';

/**
 * What the server answers at `/`: the built dashboard (`TOLLGATE_DASHBOARD_DIR`, else `@tollgate/dashboard`'s
 * dist/), or a 503 page saying how to build it when the files are missing.
 *
 * @example
 * registerSiteRoutes(app, services);
 */
export function registerSiteRoutes(app: TollgateApp, services: Services): void {
  const dir = resolveDashboardDir(services.config.dashboardDir);
  if (dir) {
    registerDashboardStatic(app, dir);
    return;
  }
  const lookedIn = services.config.dashboardDir ?? '@tollgate/dashboard/dist';
  services.logger.warn({ lookedIn }, 'dashboard files not found: run `npm run build` to build packages/dashboard');
  registerDashboardMissing(app, lookedIn);
}
