/** The benchmark's SecretProviderClass (S1–S4): 20 Secrets Manager secrets and 20 SSM parameters. */
export const SECRETS = 20;
export const PARAMETERS = 20;

export function benchObjects(): { objectName: string; objectType: string }[] {
  const pad = (i: number) => String(i + 1).padStart(2, '0');
  return [
    ...Array.from({ length: SECRETS }, (_, i) => ({ objectName: `bench/secret-${pad(i)}`, objectType: 'secretsmanager' })),
    ...Array.from({ length: PARAMETERS }, (_, i) => ({ objectName: `/bench/param-${pad(i)}`, objectType: 'ssmparameter' })),
  ];
}
