import {
  ApiClient,
  ApiError,
  loadApiClient,
  retryDelayMs
} from "./chunk-WNMV4U57.js";
export {
  ApiClient,
  ApiError,
  loadApiClient,
  retryDelayMs
};
