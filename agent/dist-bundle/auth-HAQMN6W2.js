import {
  KubernetesAuthorizer,
  METRICS_PATH,
  ReviewUnavailable,
  kubernetesReviewApi
} from "./chunk-GJE3LX66.js";
export {
  KubernetesAuthorizer,
  METRICS_PATH,
  ReviewUnavailable,
  kubernetesReviewApi
};
