// "Compliance": the HIPAA notice when the account may buy HIPAA numbers.
import { graphql, useFragment } from "react-relay";
import type { Compliance_account$key } from "./__generated__/Compliance_account.graphql";

const fragment = graphql`
  fragment Compliance_account on Account {
    compliance { hipaaEnabled notice }
  }
`;

export function Compliance({ account }: { account: Compliance_account$key }) {
  const { compliance } = useFragment(fragment, account);
  return (
    <section className="card" aria-labelledby="compliance-heading">
      <h2 id="compliance-heading">Compliance</h2>
      <h3>HIPAA Numbers</h3>
      {compliance.hipaaEnabled ? (
        <p className="notice" role="note">
          {compliance.notice ??
            "This account has been enabled to purchase HIPAA numbers. Go to your campaign page to request and enable a HIPAA compliant number."}
        </p>
      ) : (
        <p>
          Contact your Vonage account manager if you need to enable HIPAA compliance for your
          use case.
        </p>
      )}
    </section>
  );
}
