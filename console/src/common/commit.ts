import { commitMutation, type Environment, type GraphQLTaggedNode, type MutationParameters } from "relay-runtime";

// A mutation as a promise of its response, for forms that await the outcome.
export function commitAsync<T extends MutationParameters>(
  environment: Environment,
  mutation: GraphQLTaggedNode,
  variables: T["variables"],
): Promise<T["response"]> {
  return new Promise((resolve, reject) => {
    commitMutation<T>(environment, {
      mutation,
      variables,
      onCompleted: (response, errors) => {
        if (errors?.length) reject(new Error(errors.map((e) => e.message).join("; ")));
        else resolve(response);
      },
      onError: reject,
    });
  });
}
