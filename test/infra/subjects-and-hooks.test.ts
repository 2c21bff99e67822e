import { resourceNamed, synthStack } from './stack-template';

const template = synthStack();
const variables = (name: string) =>
  resourceNamed(template, 'AWS::Lambda::Function', `${name}Function`).resource.Properties.Environment.Variables;

describe('subjects and the HubSpot hook in the stack', () => {
  it("names the HubSpot client secret and the hook's settings to the http function alone", () => {
    expect(variables('Http')).toMatchObject({
      HUBSPOT_CLIENT_SECRET_ARN: { Ref: expect.stringMatching(/^SecretsHubSpotClientSecret/) },
      HUBSPOT_CONTACT_DELETION: { Ref: 'HubSpotContactDeletion' },
      HUBSPOT_WEBHOOK_URL: { Ref: 'HubSpotWebhookUrl' },
    });
    for (const name of ['Invoke', 'Worker']) {
      expect(Object.keys(variables(name)).filter((variable) => variable.startsWith('HUBSPOT_'))).toEqual([]);
    }
  });

  it('creates the client secret empty (nothing random poses as HubSpot’s) and fenced like the others', () => {
    const { id, resource } = resourceNamed(template, 'AWS::SecretsManager::Secret', 'SecretsHubSpotClientSecret');
    expect(resource.Properties.GenerateSecretString).toBeUndefined();
    expect(resource.Properties.SecretString).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy')).filter(
      (policy) => policy.Properties.SecretId.Ref === id,
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.BlockPublicPolicy).toBe(true);
    expect(policies[0]!.Properties.ResourcePolicy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'OnlyItsFunctionsAndOperators',
      'FunctionsOnlyReadTheValue',
    ]);
  });

  it('takes contact.deletion off by default and a hook URL only as https', () => {
    const parameters = template.toJSON().Parameters;
    expect(parameters.HubSpotContactDeletion).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    const pattern = new RegExp(parameters.HubSpotWebhookUrl.AllowedPattern);
    expect(['', 'https://privacy.example.com/hooks/hubspot'].every((url) => pattern.test(url))).toBe(true);
    expect(['http://privacy.example.com/hooks/hubspot', 'https://a b'].some((url) => pattern.test(url))).toBe(false);
  });

  it("outputs the hook's URL, the secret to fill and the portal ARN for subjects", () => {
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.HubSpotWebhookUrl.Value)).toContain('hooks/hubspot');
    expect(outputs.HubSpotClientSecretArn.Value).toEqual({ Ref: expect.stringMatching(/^SecretsHubSpotClientSecret/) });
    expect(JSON.stringify(outputs.PortalSubjectsExecuteApiArn.Value)).toContain('/$default/*/portal/subjects/*');
  });
});
