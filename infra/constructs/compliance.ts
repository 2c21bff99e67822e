import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AWS Solutions rules on the whole app at synth time; any finding that is not
 * acknowledged (with a written reason, next to the resource it concerns) fails the synth.
 */
export function checkAwsSolutions(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
